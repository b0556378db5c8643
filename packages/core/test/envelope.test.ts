import { describe, expect, it } from "vitest";
import { parseEnvelope, validateEnvelope } from "../src/envelope.ts";
import { EnvelopeError, InvalidJsonError, PayloadTooLargeError } from "../src/errors.ts";
import { seedEnvelope } from "./fixtures.ts";

const seed = seedEnvelope;

function rejection(body: unknown): EnvelopeError {
  try {
    validateEnvelope(body);
  } catch (error) {
    if (error instanceof EnvelopeError) return error;
    throw error;
  }
  throw new Error("expected the envelope to be rejected");
}

describe("envelope rules", () => {
  it("accepts the seed envelope as is", () => {
    expect(validateEnvelope(seed)).toEqual(seed);
  });

  it("accepts an envelope without schemaVersion", () => {
    const { schemaVersion: _omitted, ...withoutVersion } = seed;
    expect(validateEnvelope(withoutVersion).schemaVersion).toBeUndefined();
  });

  it.each(["vendorId", "externalEventId", "eventType", "occurredAt", "payload"])(
    "rejects a missing %s",
    (field) => {
      const body: Record<string, unknown> = { ...seed };
      delete body[field];
      expect(rejection(body).details.map((d) => d.path)).toEqual([field]);
    },
  );

  it.each([
    ["vendorId", ""],
    ["vendorId", "a".repeat(65)],
    ["vendorId", "vendor A"],
    ["vendorId", "vendor/A"],
    ["externalEventId", ""],
    ["externalEventId", "x".repeat(257)],
    ["externalEventId", "inv\n1"],
    ["externalEventId", "inv\u00001"],
    ["eventType", "Inventory_Update"],
    ["eventType", ""],
    ["eventType", "a".repeat(65)],
    ["occurredAt", "2026-01-30 20:15:12Z"],
    ["occurredAt", "2026-01-30T20:15:12"],
    ["occurredAt", "2026-02-30T20:15:12Z"],
    ["occurredAt", "2026-01-30T25:15:12Z"],
    ["occurredAt", "yesterday"],
    // Every state item and feed entry keeps occurredAt as sent: it has a length.
    ["occurredAt", `2026-01-30T20:15:12.${"1".repeat(44)}Z`],
    ["schemaVersion", 1],
    ["schemaVersion", ""],
    ["payload", [1, 2]],
    ["payload", "text"],
    ["payload", null],
  ])("rejects %s = %j, naming the field", (field, value) => {
    const error = rejection({ ...seed, [field]: value });
    expect(error.code).toBe("INVALID_ENVELOPE");
    expect(error.details).toHaveLength(1);
    expect(error.details[0]?.path).toBe(field);
    expect(error.details[0]?.message.length).toBeGreaterThan(5);
  });

  it.each([
    ["vendorId", "a".repeat(64)],
    ["vendorId", "Vendor_A.b-1"],
    ["externalEventId", "x".repeat(256)],
    ["externalEventId", "ordre n° 12 — été"],
    ["eventType", "order.status_v2-x"],
    ["occurredAt", "2026-01-30T20:15:12.123+02:00"],
    ["occurredAt", "2026-01-30t20:15:12z"],
    ["occurredAt", `2026-01-30T20:15:12.${"1".repeat(43)}Z`],
  ])("accepts %s = %j at the edge of its rule", (field, value) => {
    expect(validateEnvelope({ ...seed, [field]: value })).toMatchObject({ [field]: value });
  });

  it("rejects occurredAt more than 24 hours in the future and accepts it just under", () => {
    const tooLate = new Date(Date.now() + 25 * 3600_000).toISOString();
    const fine = new Date(Date.now() + 23 * 3600_000).toISOString();
    expect(rejection({ ...seed, occurredAt: tooLate }).details[0]?.message).toMatch(/24 hours/);
    expect(validateEnvelope({ ...seed, occurredAt: fine }).occurredAt).toBe(fine);
  });

  it("rejects unknown top-level fields, naming each", () => {
    const error = rejection({ ...seed, extra: 1, other: true });
    expect(error.details.map((d) => d.path).sort()).toEqual(["extra", "other"]);
    expect(error.details[0]?.message).toMatch(/unknown field/);
  });

  it.each(["constructor", "toString", "__proto__", "hasOwnProperty"])(
    "names %s as an unknown field, like any other (not a rejection without details)",
    (field) => {
      const body = JSON.parse(JSON.stringify(seed).replace("{", `{"${field}":1,`));

      expect(rejection(body).details).toEqual([{ path: field, message: `unknown field "${field}"` }]);
    },
  );

  it("reports every broken field at once", () => {
    const error = rejection({ ...seed, vendorId: "", eventType: "BAD", payload: 3 });
    expect(error.details.map((d) => d.path).sort()).toEqual(["eventType", "payload", "vendorId"]);
  });

  it("rejects a body that is not an object", () => {
    expect(rejection([seed]).details).toEqual([{ path: "$", message: "expected a JSON object" }]);
  });
});

describe("parsing a request body", () => {
  it("rejects a body that is not JSON", () => {
    expect(() => parseEnvelope("{not json")).toThrow(InvalidJsonError);
  });

  it("rejects a body over 262,144 bytes before parsing it", () => {
    const body = JSON.stringify({ ...seed, payload: { blob: "x".repeat(262_144) } });
    expect(() => parseEnvelope(body)).toThrow(PayloadTooLargeError);
  });

  it("accepts a body of exactly 262,144 bytes", () => {
    const base = JSON.stringify({ ...seed, payload: { blob: "" } });
    const body = JSON.stringify({
      ...seed,
      payload: { blob: "x".repeat(262_144 - Buffer.byteLength(base)) },
    });
    expect(Buffer.byteLength(body)).toBe(262_144);
    expect(parseEnvelope(Buffer.from(body)).vendorId).toBe("vendorA");
  });
});

/** The EnvelopeError a raw body gets from parseEnvelope. */
function bodyRejection(body: string | Buffer): EnvelopeError {
  try {
    parseEnvelope(body);
  } catch (error) {
    if (error instanceof EnvelopeError) return error;
    throw error;
  }
  throw new Error("expected the body to be rejected");
}

/** A JSON value nested `levels` deep: `{"a":{"a":...1}}` or `[[...1]]`. */
const nested = (levels: number, kind: "object" | "array" = "object") =>
  kind === "object"
    ? `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`
    : `${"[".repeat(levels)}1${"]".repeat(levels)}`;

const withPayload = (payloadJson: string) =>
  JSON.stringify({ ...seed, payload: { x: 0 } }).replace('{"x":0}', payloadJson);

describe("how deep a body may nest", () => {
  it.each([
    [3_000, "object"],
    [3_000, "array"],
    [100_000, "array"],
  ] as const)(
    "refuses a payload nested %i levels (%s) as INVALID_ENVELOPE naming payload, before hashing it",
    (levels, kind) => {
      const body = withPayload(
        kind === "object" ? nested(levels) : `{"deep":${nested(levels - 1, "array")}}`,
      );

      const error = bodyRejection(body);

      expect(error.code).toBe("INVALID_ENVELOPE");
      expect(error.details).toEqual([
        { path: "payload", message: "payload must not nest objects and arrays more than 64 levels deep" },
      ]);
    },
  );

  it("accepts a payload nested exactly 64 levels and refuses 65", () => {
    expect(parseEnvelope(withPayload(nested(64))).payload).toBeTypeOf("object");
    expect(bodyRejection(withPayload(nested(65))).details[0]?.path).toBe("payload");
  });

  it("refuses deep nesting in any field, not only the payload", () => {
    const body = JSON.stringify({ ...seed, extra: 0 }).replace(
      '"extra":0',
      `"extra":${nested(3_000, "array")}`,
    );

    expect(bodyRejection(body).details).toContainEqual({
      path: "extra",
      message: "extra must not nest objects and arrays more than 64 levels deep",
    });
  });
});

describe("Unicode in a body", () => {
  it.each(["\ud800-D-T", "\udc00-D-T", "inv-\udbff", "\udfff\ud800"])(
    "refuses externalEventId %j (a lone surrogate): it cannot be stored as UTF-8 and would collide with other ids",
    (externalEventId) => {
      const error = rejection({ ...seed, externalEventId });

      expect(error.details).toEqual([
        {
          path: "externalEventId",
          message: "externalEventId must be well-formed Unicode (no lone surrogates)",
        },
      ]);
    },
  );

  it("refuses a lone surrogate anywhere in the payload, naming where", () => {
    const error = rejection({
      ...seed,
      payload: { sku: "ABC-001", lines: [{ sku: "ok" }, { sku: "B\udc00" }] },
    });

    expect(error.details).toEqual([
      { path: "payload.lines.1.sku", message: "must be well-formed Unicode (no lone surrogates)" },
    ]);
  });

  it("refuses a lone surrogate in a payload key", () => {
    const error = rejection({ ...seed, payload: { items: { "\ud83d": 1 } } });

    expect(error.details).toEqual([
      { path: "payload.items", message: "a key must be well-formed Unicode (no lone surrogates)" },
    ]);
  });

  it("refuses the escaped form of a lone surrogate in the body text too", () => {
    const body = JSON.stringify(seed).replace('"inv-12345"', '"\\ud800-D-T"');

    expect(bodyRejection(body).details[0]?.path).toBe("externalEventId");
  });

  it("accepts characters outside the BMP (surrogate pairs) in ids and payload", () => {
    const envelope = validateEnvelope({ ...seed, externalEventId: "inv-😀-𝄞", payload: { sku: "𝄞" } });

    expect(envelope.externalEventId).toBe("inv-😀-𝄞");
  });

  it("refuses a body that is not UTF-8: two different byte strings must not become one id", () => {
    const body = Buffer.concat([
      Buffer.from('{"vendorId":"vendorA","externalEventId":"'),
      Buffer.from([0xff]),
      Buffer.from('-D-T","eventType":"inventory_update","occurredAt":"2026-01-30T20:15:12Z","payload":{}}'),
    ]);

    expect(() => parseEnvelope(body)).toThrow(InvalidJsonError);
    expect(() => parseEnvelope(body)).toThrow(/UTF-8/);
  });
});

describe("occurredAt at second 60", () => {
  it("refuses a leap second with a message that says so, not as a date in the future", () => {
    const error = rejection({ ...seed, occurredAt: "2026-01-30T23:59:60Z" });

    expect(error.details).toEqual([
      {
        path: "occurredAt",
        message: "occurredAt must not be a leap second (second 60): send 23:59:59 or the next minute's 00",
      },
    ]);
  });
});
