import { decodeTime } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, seedEnvelope, startHarness } from "./harness.ts";

let dvss: Harness;
beforeAll(async () => {
  dvss = await startHarness();
});
afterAll(async () => {
  await dvss?.close();
});

const envelope = (externalEventId: string, payload: Record<string, unknown> = seedEnvelope.payload) => ({
  ...seedEnvelope,
  externalEventId,
  payload,
});

/** The envelope as JSON with its one "@" replaced by the byte 0xFF, which UTF-8 never has. */
function notUtf8(body: unknown): Buffer {
  const bytes = Buffer.from(JSON.stringify(body));
  bytes[bytes.indexOf("@")] = 0xff;
  return bytes;
}

/** `{"a":{"a":...1}}`, `levels` objects deep. */
const deep = (levels: number) => `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;

describe("POST /v1/events", () => {
  it("accepts a new event, stores the body byte for byte at the raw key of its ingestId, and records it RECEIVED or later", async () => {
    const body = `{"vendorId":"vendorA", "externalEventId":"accept-1","eventType":"inventory_update",\n "occurredAt":"2026-01-30T20:15:12Z","schemaVersion":"1","payload":{"sku":"ABC-001","qty":12,"warehouse":"ROA"}}`;

    const response = await dvss.post(body);

    expect(response.status).toBe(202);
    expect(response.body).toEqual({
      status: "ACCEPTED",
      ingestId: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
    });
    expect(response.headers.get("x-request-id")).toBeTruthy();
    const { ingestId } = response.body;
    const day = new Date(decodeTime(ingestId)).toISOString().slice(0, 10).replaceAll("-", "/");
    const key = `raw/vendorA/${day}/${ingestId}.json`;
    expect((await dvss.object(dvss.endpoints.buckets.RawBucket, key)).toString()).toBe(body);
    const { data: record } = await dvss.entities.ingestRecords
      .get({ vendorId: "vendorA", externalEventId: "accept-1" })
      .go();
    expect(record).toMatchObject({ ingestId, rawKey: key, eventType: "inventory_update", attempts: 1 });
  });

  it("answers DUPLICATE with the original ingestId for the same content, however it is formatted", async () => {
    const first = await dvss.post(envelope("dup-1"));
    const { payload: _payload, ...rest } = envelope("dup-1");
    const reordered = { payload: { warehouse: "ROA", qty: 12, sku: "ABC-001" }, ...rest };

    const again = await dvss.post(JSON.stringify(reordered, null, 2));

    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ status: "DUPLICATE", ingestId: first.body.ingestId });
    expect((await dvss.rawKeys()).filter((key) => key.includes(first.body.ingestId))).toHaveLength(1);
  });

  it("answers 409 IDEMPOTENCY_CONFLICT with the original ingestId when the content differs", async () => {
    const first = await dvss.post(envelope("conflict-1"));
    const rawBefore = await dvss.rawKeys();

    const conflicting = await dvss.post(
      envelope("conflict-1", { sku: "ABC-001", qty: 99, warehouse: "ROA" }),
    );

    expect(conflicting.status).toBe(409);
    expect(conflicting.body).toMatchObject({
      error: { code: "IDEMPOTENCY_CONFLICT", message: expect.stringContaining("conflict-1") },
      ingestId: first.body.ingestId,
      requestId: conflicting.headers.get("x-request-id"),
    });
    expect(await dvss.rawKeys()).toEqual(rawBefore);
  });

  it("accepts exactly one of 30 concurrent copies of a new event; the others are DUPLICATE of it", async () => {
    const body = JSON.stringify(envelope("race-1"));

    const responses = await Promise.all(Array.from({ length: 30 }, () => dvss.post(body)));

    const accepted = responses.filter((r) => r.body.status === "ACCEPTED");
    expect(responses.every((r) => r.status === 202)).toBe(true);
    expect(accepted).toHaveLength(1);
    const ingestId = accepted[0]?.body.ingestId;
    expect(new Set(responses.map((r) => r.body.ingestId))).toEqual(new Set([ingestId]));
    const raw = (await dvss.rawKeys()).filter((key) => key.startsWith("raw/vendorA/"));
    const records = (await dvss.records()).filter((record) => record.externalEventId === "race-1");
    expect(records).toHaveLength(1);
    // The losers' raw objects were orphans and are gone: exactly one object per recorded event.
    expect(raw.length).toBe((await dvss.records()).filter((record) => record.vendorId === "vendorA").length);
  });

  describe("refuses bad requests with the contract's error and stores nothing", () => {
    const cases: [
      string,
      () => Promise<{ status: number; body: { error: { code: string } } }>,
      number,
      string,
    ][] = [
      ["no key", () => dvss.post(envelope("bad-1"), {}), 401, "UNAUTHORIZED"],
      ["an unknown key", () => dvss.post(envelope("bad-2"), { "x-api-key": "nope" }), 401, "UNAUTHORIZED"],
      [
        "another vendor's key",
        () => dvss.post(envelope("bad-3"), { authorization: "Bearer local-vendorB-key" }),
        403,
        "FORBIDDEN",
      ],
      [
        "a consumer key",
        () => dvss.post(envelope("bad-4"), { authorization: "Bearer local-consumer-key" }),
        403,
        "FORBIDDEN",
      ],
      ["a body that is not JSON", () => dvss.post("{oops"), 400, "INVALID_JSON"],
      [
        "a broken envelope",
        () => dvss.post({ ...envelope("bad-5"), eventType: "Bad Type" }),
        400,
        "INVALID_ENVELOPE",
      ],
      [
        "a body over 256 KiB",
        () => dvss.post(envelope("bad-6", { blob: "x".repeat(262_144) })),
        413,
        "PAYLOAD_TOO_LARGE",
      ],
      [
        "a payload nested 3,000 levels (6 KB)",
        () =>
          dvss.post(
            JSON.stringify(envelope("bad-9", {})).replace('"payload":{}', `"payload":${deep(3_000)}`),
          ),
        400,
        "INVALID_ENVELOPE",
      ],
      [
        "an externalEventId with a lone surrogate",
        () => dvss.post(envelope("\ud800-bad-10")),
        400,
        "INVALID_ENVELOPE",
      ],
      [
        "a body that is not UTF-8",
        () =>
          dvss.request("POST", "/v1/events", {
            body: notUtf8(envelope("bad-11-@")),
            headers: { "content-type": "application/json", "x-api-key": "local-vendorA-key" },
          }),
        400,
        "INVALID_JSON",
      ],
      [
        "a body that is not declared JSON",
        () =>
          dvss.request("POST", "/v1/events", {
            body: JSON.stringify(envelope("bad-7")),
            headers: { "content-type": "text/plain", "x-api-key": "local-vendorA-key" },
          }),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
      ],
    ];

    it.each(cases)("%s", async (_name, send, status, code) => {
      const rawBefore = await dvss.rawKeys();
      const recordsBefore = (await dvss.records()).length;

      const response = await send();

      expect(response.status).toBe(status);
      expect(response.body.error.code).toBe(code);
      expect(await dvss.rawKeys()).toEqual(rawBefore);
      expect((await dvss.records()).length).toBe(recordsBefore);
    });

    it("answers a payload nested 3,000 levels with INVALID_ENVELOPE naming payload, not a 500", async () => {
      const response = await dvss.post(
        JSON.stringify(envelope("deep-1", {})).replace('"payload":{}', `"payload":${deep(3_000)}`),
      );

      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        error: {
          code: "INVALID_ENVELOPE",
          message: "The envelope breaks 1 rule(s): payload",
          details: [
            { path: "payload", message: "payload must not nest objects and arrays more than 64 levels deep" },
          ],
        },
        requestId: response.headers.get("x-request-id"),
      });
    });

    it("names each broken field of an envelope", async () => {
      const response = await dvss.post({
        ...envelope("bad-8"),
        vendorId: "vendorA",
        occurredAt: "soon",
        extra: 1,
      });

      expect(response.body.error.details).toEqual(
        expect.arrayContaining([
          { path: "occurredAt", message: expect.stringContaining("RFC 3339") },
          { path: "extra", message: 'unknown field "extra"' },
        ]),
      );
    });
  });
});

describe("GET /v1/events/{ingestId}", () => {
  it("shows a vendor its own event and hides it from another vendor", async () => {
    const { body } = await dvss.post(envelope("get-1"));

    const own = await dvss.request("GET", `/v1/events/${body.ingestId}`, {
      headers: { "x-api-key": "local-vendorA-key" },
    });
    const other = await dvss.request("GET", `/v1/events/${body.ingestId}`, {
      headers: { "x-api-key": "local-vendorB-key" },
    });

    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({
      ingestId: body.ingestId,
      vendorId: "vendorA",
      externalEventId: "get-1",
      eventType: "inventory_update",
      status: expect.stringMatching(/^(RECEIVED|NORMALIZED|FAILED_NORMALIZE)$/),
      rawRef: { bucket: dvss.endpoints.buckets.RawBucket, key: expect.stringContaining(body.ingestId) },
    });
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe("NOT_FOUND");
  });

  it.each([
    [
      "ACCESS_DENIED",
      "User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: s3:GetObject",
    ],
    ["INTERNAL", "Cannot read properties of undefined (reading 'x') at /var/task/index.js"],
  ])("tells a vendor the code of a %s failure but not its internal message", async (code, internal) => {
    const { body } = await dvss.post(envelope(`get-${code}`));
    await dvss.runtime.stepFunctions.drain();
    await dvss.entities.ingestRecords
      .patch({ vendorId: "vendorA", externalEventId: `get-${code}` })
      .set({ status: "FAILED_NORMALIZE", lastError: { code, message: internal } })
      .go();

    const own = await dvss.request("GET", `/v1/events/${body.ingestId}`, {
      headers: { "x-api-key": "local-vendorA-key" },
    });

    expect(own.body.error.code).toBe(code);
    expect(own.body.error.message).not.toContain(internal);
    expect(JSON.stringify(own.body)).not.toMatch(/123456789012|\/var\/task/);
  });

  it("tells a vendor what was wrong with its own data", async () => {
    const { body } = await dvss.post(envelope("get-schema"));
    await dvss.runtime.stepFunctions.drain();
    const message = "payload.qty: must be integer";
    await dvss.entities.ingestRecords
      .patch({ vendorId: "vendorA", externalEventId: "get-schema" })
      .set({ status: "FAILED_NORMALIZE", lastError: { code: "SCHEMA_VALIDATION_FAILED", message } })
      .go();

    const own = await dvss.request("GET", `/v1/events/${body.ingestId}`, {
      headers: { "x-api-key": "local-vendorA-key" },
    });

    expect(own.body.error).toEqual({ code: "SCHEMA_VALIDATION_FAILED", message });
  });
});

describe("the router's own answers", () => {
  const expectContractError = (
    response: Awaited<ReturnType<Harness["request"]>>,
    status: number,
    code: string,
  ) => {
    expect(response.status).toBe(status);
    expect(response.body).toEqual({
      error: { code, message: expect.any(String) },
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(response.headers.get("x-request-id")).toBe(response.body.requestId);
  };

  it("answers an unknown path 404 NOT_FOUND with a requestId", async () => {
    expectContractError(await dvss.request("GET", "/nope"), 404, "NOT_FOUND");
  });

  it("answers a wrong method 405 METHOD_NOT_ALLOWED with a requestId and the methods allowed", async () => {
    const response = await dvss.request("DELETE", "/v1/events");

    expectContractError(response, 405, "METHOD_NOT_ALLOWED");
    expect(response.headers.get("allow")).toBe("POST");
  });

  it.each(["/v1/events/%", "/v1/state/orders/%ZZ"])(
    "answers a malformed percent-encoding (%s) 400 BAD_REQUEST, with or without a key",
    async (path) => {
      const anonymous = await dvss.request("GET", path);
      const withKey = await dvss.request("GET", path, { headers: { "x-api-key": "local-consumer-key" } });

      expectContractError(anonymous, 400, "BAD_REQUEST");
      expectContractError(withKey, 400, "BAD_REQUEST");
      expect(anonymous.body.error.message).toMatch(/percent-encoded/);
    },
  );

  it("reports the real size of a body far over the limit", async () => {
    const body = JSON.stringify(envelope("big-1", { blob: "" })).replace(
      '"blob":""',
      `"blob":"${"x".repeat(2_097_351 - JSON.stringify(envelope("big-1", { blob: "" })).length)}"`,
    );
    expect(Buffer.byteLength(body)).toBe(2_097_351);

    const response = await dvss.post(body);

    expect(response.status).toBe(413);
    expect(response.body.error.message).toBe("The request body is 2097351 bytes; the limit is 262144");
  });

  it("answers a body over API Gateway's 10 MB cap 413 with its real size too", async () => {
    const response = await dvss.post("x".repeat(11 * 1024 * 1024));

    expectContractError(response, 413, "PAYLOAD_TOO_LARGE");
    expect(response.body.error.message).toBe("The request body is 11534336 bytes; the limit is 262144");
  });
});

describe("GET /healthz", () => {
  it("is ok when the stores answer", async () => {
    const response = await dvss.request("GET", "/healthz");
    expect(response).toMatchObject({ status: 200, body: { status: "ok" } });
  });
});

describe("when a store fails", () => {
  it("answers 202 and leaves the record RECEIVED, its refused start not counted as an attempt, when the workflow cannot be started", async () => {
    const { resetAwsClients } = await import("@dvss/functions/lib/aws");
    const sfnEndpoint = process.env.AWS_ENDPOINT_URL_SFN;
    process.env.AWS_ENDPOINT_URL_SFN = "http://127.0.0.1:9";
    resetAwsClients();
    try {
      const response = await dvss.post(envelope("no-start-1"));

      expect(response.status).toBe(202);
      expect(response.body.status).toBe("ACCEPTED");
      const { data } = await dvss.entities.ingestRecords
        .get({ vendorId: "vendorA", externalEventId: "no-start-1" })
        .go();
      expect(data?.status).toBe("RECEIVED");
      expect(data?.pendingShard).toBeDefined();
      expect(data?.attempts).toBe(0);
    } finally {
      process.env.AWS_ENDPOINT_URL_SFN = sfnEndpoint;
      resetAwsClients();
    }
  });

  it("answers 503 UNAVAILABLE and accepts nothing when the idempotency table does not answer", async () => {
    const { resetAwsClients } = await import("@dvss/functions/lib/aws");
    await dvss.post(envelope("warm-auth-cache"));
    const dynamoEndpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    const rawBefore = await dvss.rawKeys();
    process.env.AWS_ENDPOINT_URL_DYNAMODB = "http://127.0.0.1:9";
    resetAwsClients();
    let response: Awaited<ReturnType<Harness["post"]>>;
    try {
      response = await dvss.post(envelope("unavailable-1"));
    } finally {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamoEndpoint;
      resetAwsClients();
    }

    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe("UNAVAILABLE");
    expect(await dvss.rawKeys()).toEqual(rawBefore);
    const retry = await dvss.post(envelope("unavailable-1"));
    expect(retry.body.status).toBe("ACCEPTED");
  });
});

describe("idempotency keys", () => {
  it("refuses externalEventIds with lone surrogates rather than take two of them for one id", async () => {
    const first = await dvss.post(envelope("\ud800-D-T"));
    const second = await dvss.post(envelope("\udc00-D-T"));

    for (const response of [first, second]) {
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({
        code: "INVALID_ENVELOPE",
        details: [{ path: "externalEventId", message: expect.stringContaining("well-formed Unicode") }],
      });
    }
    expect((await dvss.records()).filter((record) => record.externalEventId.endsWith("-D-T"))).toEqual([]);
  });

  it("treats externalEventIds that differ only in case as different events", async () => {
    const upper = await dvss.post(envelope("CASE-1"));
    const lower = await dvss.post(envelope("case-1"));

    expect(upper.body).toMatchObject({ status: "ACCEPTED" });
    expect(lower.body.status).toBe("ACCEPTED");
    expect(lower.body.ingestId).not.toBe(upper.body.ingestId);
  });
});
