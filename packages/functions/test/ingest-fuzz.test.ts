/**
 * Reliability fuzz of POST /v1/events: the real ingest handler (middy, auth, rate limiter,
 * envelope rules, idempotency) driven in-process with generated envelopes and hostile requests,
 * against in-memory stores that answer the SDK clients' own commands. Whatever arrives: never a
 * 5xx, always the contract's error body, and nothing stored for a request that was refused.
 */
import { randomUUID } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { S3ServiceException } from "@aws-sdk/client-s3";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import fc from "fast-check";
import { beforeAll, describe, expect, it, vi } from "vitest";

vi.hoisted(() => {
  const env = process.env;
  env.AWS_REGION = "us-east-1";
  env.AWS_ACCESS_KEY_ID = "fuzz";
  env.AWS_SECRET_ACCESS_KEY = "fuzz";
  env.POWERTOOLS_LOG_LEVEL = "CRITICAL";
  env.POWERTOOLS_METRICS_DISABLED = "true";
  env.SST_RESOURCE_App = JSON.stringify({ name: "dvss", stage: "fuzz" });
  for (const name of ["IngestRecords", "Vendors", "CanonicalState", "Divergence", "Quarantine", "Outbox"]) {
    env[`SST_RESOURCE_${name}`] = JSON.stringify({ name: `dvss-fuzz-${name}` });
  }
  env.SST_RESOURCE_RawBucket = JSON.stringify({ name: "dvss-fuzz-raw" });
  env.SST_RESOURCE_NormalizedBucket = JSON.stringify({ name: "dvss-fuzz-normalized" });
  env.SST_RESOURCE_Normalize = JSON.stringify({
    name: "dvss-fuzz-Normalize",
    arn: "arn:aws:states:us-east-1:000000000000:stateMachine:dvss-fuzz-Normalize",
  });
});

const { handler } = await import("../src/http/ingest.ts");
const { dynamoClient, getEntities, s3Client, sfnClient } = await import("../src/lib/aws.ts");
const { hashApiKey } = await import("@dvss/core/auth");
const { generateSigningSecret, signedHeaders } = await import("@dvss/core/signature");
const { rawBody } = await import("../src/lib/http.ts");
const { routeRequest } = await import("@dvss/local/http-server");

const RUNS = 10_000;

/**
 * The stores, in memory: DynamoDB items by table and key, S3 objects, started executions. Items
 * are plain objects: the stores answer before the document client marshals a command's input,
 * and their answer skips its unmarshalling.
 */
const items = new Map<string, Record<string, unknown>>();
const objects = new Map<string, Buffer>();
const executions: string[] = [];
const count = (table: string) => [...items.keys()].filter((key) => key.startsWith(`${table}|`)).length;
const stored = () => ({
  records: count("dvss-fuzz-IngestRecords"),
  raw: objects.size,
  executions: executions.length,
});

/**
 * A middleware that answers a client's commands before they are serialized, so nothing leaves the
 * process (added at the serialize step with high priority; typed loosely, one for three clients).
 */
function answer(commands: Record<string, (input: Record<string, unknown>) => Record<string, unknown>>) {
  const middleware =
    (_next: unknown, context: { commandName?: string }) => async (args: { input: unknown }) => {
      const command = commands[String(context.commandName)];
      if (!command) throw new Error(`The fuzz stores do not implement ${context.commandName}`);
      const output = command(args.input as Record<string, unknown>);
      return { output: { $metadata: { httpStatusCode: 200 }, ...output }, response: {} };
    };
  return middleware as never;
}

const keyOf = (table: string, key: Record<string, unknown>) => `${table}|${key.pk}|${key.sk}`;

function installStores() {
  dynamoClient().middlewareStack.add(
    answer({
      GetItemCommand: ({ TableName, Key }) => {
        const item = items.get(keyOf(String(TableName), Key as Record<string, unknown>));
        return item ? { Item: item } : {};
      },
      PutItemCommand: ({ TableName, Item, ConditionExpression }) => {
        const item = Item as Record<string, unknown>;
        const key = keyOf(String(TableName), item);
        if (ConditionExpression !== undefined) {
          // The only condition ingest writes with: ElectroDB's create.
          expect(ConditionExpression).toBe("attribute_not_exists(#pk) AND attribute_not_exists(#sk)");
          if (items.has(key)) {
            throw new ConditionalCheckFailedException({
              message: "The conditional request failed",
              $metadata: {},
            });
          }
        }
        items.set(key, item);
        return {};
      },
    }),
    { step: "serialize", priority: "high", name: "fuzzDynamoDB" },
  );
  s3Client().middlewareStack.add(
    answer({
      PutObjectCommand: ({ Bucket, Key, Body, IfNoneMatch }) => {
        const key = `${Bucket}/${Key}`;
        if (IfNoneMatch === "*" && objects.has(key)) {
          throw new S3ServiceException({
            name: "PreconditionFailed",
            $fault: "client",
            $metadata: { httpStatusCode: 412 },
          });
        }
        objects.set(key, Buffer.from(Body as Buffer));
        return {};
      },
      DeleteObjectCommand: ({ Bucket, Key }) => {
        objects.delete(`${Bucket}/${Key}`);
        return {};
      },
    }),
    { step: "serialize", priority: "high", name: "fuzzS3" },
  );
  sfnClient().middlewareStack.add(
    answer({
      StartExecutionCommand: ({ name }) => {
        executions.push(String(name));
        return {
          executionArn: `arn:aws:states:us-east-1:000000000000:execution:fuzz:${name}`,
          startDate: new Date(),
        };
      },
    }),
    { step: "serialize", priority: "high", name: "fuzzSFN" },
  );
}

const KEYS = {
  vendorA: "fuzz-vendorA-key",
  vendorB: "fuzz-vendorB-key",
  slow: "fuzz-slow-key",
  consumer: "fuzz-consumer-key",
  paused: "fuzz-paused-key",
  signer: "fuzz-signer-key",
} as const;

/** The secret of "signer", a vendor that signs its requests. */
const SIGNING_SECRET = generateSigningSecret();

async function seedVendors() {
  const entities = getEntities();
  const createdAt = new Date().toISOString();
  for (const [vendorId, rateLimitPerSecond] of [
    ["vendorA", 1_000_000],
    ["vendorB", 1_000_000],
    ["slow", 1],
    ["paused", 1_000_000],
    ["signer", 1_000_000],
  ] as const) {
    await entities.vendors
      .create({
        vendorId,
        name: vendorId,
        priority: 10,
        rateLimitPerSecond,
        ...(vendorId === "paused" && { pausedAt: createdAt }),
      })
      .go();
    const keyHash = hashApiKey(KEYS[vendorId]);
    await entities.apiKeys.create({ keyHash, vendorId, role: "vendor", createdAt }).go();
  }
  await entities.apiKeys
    .create({ keyHash: hashApiKey(KEYS.consumer), vendorId: "consumer", role: "consumer", createdAt })
    .go();
  await entities.vendorSigning
    .create({ vendorId: "signer", secrets: [{ secret: SIGNING_SECRET, createdAt }], updatedAt: createdAt })
    .go();
}

// ---------------------------------------------------------------------------------------------
// What the fuzz sends

/** Strings as hostile as JSON allows: lone surrogates, separators, controls, astral characters. */
const hostileText = fc.string({
  unit: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom("a", "B", "1", "-", "_", ".") },
    {
      weight: 2,
      arbitrary: fc.constantFrom("#", "%", "/", "\\", '"', " ", "é", "😀", "\u0000", "\n", "\u202e"),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)),
    },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)) },
  ),
  maxLength: 40,
});

/** Number literals, as text, from ordinary quantities to ones no double holds. */
const numberLiteral = fc.oneof(
  fc.integer({ min: -5, max: 1000 }).map(String),
  fc.constantFrom(
    "9007199254740991",
    "9007199254740993",
    "-9007199254740993",
    "1e125",
    "1e308",
    "1e400",
    "-0",
    "0.5",
    "1E2",
    "123456789012345678901234567890",
  ),
);

/** `[[[...]]]` or `{"a":{...}}` nested from a few levels to far past the limit. */
const deepValue = fc
  .tuple(fc.oneof(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 70, max: 20_000 })), fc.boolean())
  .map(([levels, asArray]) =>
    asArray
      ? `${"[".repeat(levels)}1${"]".repeat(levels)}`
      : `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`,
  );

/** A payload as JSON text: the vendor's shape with hostile values, random JSON, or deep nesting. */
const payloadText = fc.oneof(
  fc
    .record({ sku: hostileText, qty: numberLiteral, warehouse: hostileText })
    .map(
      ({ sku, qty, warehouse }) =>
        `{"sku":${JSON.stringify(sku)},"qty":${qty},"warehouse":${JSON.stringify(warehouse)}}`,
    ),
  fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
  deepValue.map((deep) => `{"deep":${deep}}`),
  deepValue,
  fc.constantFrom('{"sku":"\\ud800"}', '{"\\udc00":1}', '{"__proto__":{"x":1}}', '{"a":1,"a":2}'),
);

const occurredAt = fc.oneof(
  fc
    .date({
      min: new Date("2000-01-01T00:00:00Z"),
      max: new Date("2030-01-01T00:00:00Z"),
      noInvalidDate: true,
    })
    .map((date) => date.toISOString()),
  fc.constantFrom(
    "2026-01-30T23:59:60Z",
    "2026-02-30T10:00:00Z",
    "2026-01-30T20:15:12.123456789+05:30",
    "2026-01-30t20:15:12z",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59-23:59",
    "yesterday",
    "",
  ),
  hostileText,
);

/** A field's value as JSON text, mostly well-formed; `undefined` leaves the field out. */
const fieldText = (usual: fc.Arbitrary<string>, hostile: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 16, arbitrary: usual.map((text) => JSON.stringify(text)) },
    { weight: 2, arbitrary: hostile.map((text) => JSON.stringify(text)) },
    { weight: 1, arbitrary: fc.constantFrom("null", "1", "true", "[]", "{}", '["vendorA"]') },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );

/** Rarely there: a field the envelope does not have. */
const rare = (value: string) =>
  fc.oneof({ weight: 30, arbitrary: fc.constant(undefined) }, fc.constant(value));

/** An envelope as JSON text: mostly one a vendor could send, every field sometimes hostile or missing. */
const envelopeText = fc
  .record({
    vendorId: fieldText(
      fc.oneof(
        { weight: 8, arbitrary: fc.constant("vendorA") },
        fc.constantFrom("vendorB", "slow", "paused", "signer"),
      ),
      fc.oneof(fc.constantFrom("vendor#A", "vendora", ""), hostileText),
    ),
    // A small pool of ids, so the same id comes back: duplicates and conflicts.
    externalEventId: fieldText(
      fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: 1, max: 40 }).map((n) => `inv-${n}`) },
        { weight: 1, arbitrary: fc.constantFrom("W#sku_B", "a%23b", "é-1", "😀") },
        { weight: 3, arbitrary: fc.uuid() },
      ),
      fc.oneof(fc.constantFrom("\ud800-D-T", "\udc00-D-T", ""), hostileText),
    ),
    eventType: fieldText(fc.constantFrom("inventory_update", "order_created"), hostileText),
    occurredAt: fieldText(
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom("2026-01-30T20:15:12Z", "2026-01-30T21:15:12+01:00") },
        {
          weight: 1,
          arbitrary: fc
            .date({
              min: new Date("2000-01-01T00:00:00Z"),
              max: new Date("2030-01-01T00:00:00Z"),
              noInvalidDate: true,
            })
            .map((date) => date.toISOString()),
        },
      ),
      occurredAt,
    ),
    schemaVersion: fc.oneof(
      { weight: 4, arbitrary: fc.constant(undefined) },
      { weight: 4, arbitrary: fc.constant('"1"') },
      fc.constantFrom('"2"', '"x y"', "1"),
    ),
    payload: fc.oneof(
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          '{"sku":"ABC-001","qty":12,"warehouse":"ROA"}',
          '{"sku":"B#sku_C","qty":5,"warehouse":"W"}',
        ),
      },
      { weight: 6, arbitrary: payloadText },
      { weight: 1, arbitrary: fc.constant(undefined) },
    ),
    constructor: rare("1"),
    __proto__: rare('{"vendorId":"vendorB"}'),
    extra: rare('"x"'),
  })
  .map(
    (fields) =>
      `{${Object.entries(fields)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => `"${key}":${value}`)
        .join(",")}}`,
  );

/** Any body: envelopes, truncated ones, random JSON, random bytes, nothing. */
const bodyBytes = fc.oneof(
  { weight: 12, arbitrary: envelopeText.map((text) => Buffer.from(text)) },
  {
    weight: 1,
    arbitrary: envelopeText.map((text) => Buffer.from(text.slice(0, Math.floor(text.length / 2)))),
  },
  { weight: 1, arbitrary: fc.json().map((text) => Buffer.from(text)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)) },
  {
    weight: 1,
    arbitrary: envelopeText.map((text) =>
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]),
    ),
  },
  { weight: 1, arbitrary: envelopeText.map((text) => Buffer.from(text.replace("inv", "\xff"), "latin1")) },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
  { weight: 1, arbitrary: fc.constant(Buffer.from(`{"payload":"${"x".repeat(262_144)}"}`)) },
);

const apiKeyHeaders = fc.oneof(
  { weight: 40, arbitrary: fc.constant({ "x-api-key": KEYS.vendorA }) },
  fc.constant({ authorization: `Bearer ${KEYS.vendorA}` }),
  fc.constant({ "X-API-KEY": KEYS.vendorB }),
  fc.constant({ "x-api-key": KEYS.slow }),
  fc.constant({ "x-api-key": KEYS.consumer }),
  fc.constant({ "x-api-key": KEYS.paused }),
  { weight: 4, arbitrary: fc.constant({ "x-api-key": KEYS.signer }) },
  fc.constant({ "x-api-key": KEYS.vendorA, authorization: `Bearer ${KEYS.vendorB}` }),
  fc.constant({ authorization: "Basic dXNlcjpwYXNz" }),
  fc.constant({ authorization: "Bearer" }),
  hostileText.map((key) => ({ "x-api-key": key })),
  fc.constant({}),
);

const contentType = fc.oneof(
  { weight: 40, arbitrary: fc.constant("application/json") },
  fc.constantFrom(
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/vnd.vendor+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "",
    ";;;",
  ),
  hostileText,
);

/** How the body travels: as text, as base64 (API Gateway's binary form), or as broken base64. */
const encoding = fc.oneof(
  { weight: 6, arbitrary: fc.constant("text" as const) },
  { weight: 3, arbitrary: fc.constant("base64" as const) },
  { weight: 1, arbitrary: fc.constant("bad-base64" as const) },
);

const SIGNATURE_KINDS = ["none", "valid", "stale", "other-body", "other-secret"] as const;

/**
 * The signature headers sent along: none, a valid signature over the bytes the handler receives
 * (filled in by eventOf), one too old, one over other bytes, or hostile header values.
 */
const signature = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SIGNATURE_KINDS) },
  fc.record({
    "webhook-id": hostileText,
    "webhook-timestamp": hostileText,
    "webhook-signature": hostileText,
  }),
);

const request = fc.record({
  body: bodyBytes,
  headers: apiKeyHeaders,
  signature,
  contentType: fc.option(contentType, { nil: undefined, freq: 30 }),
  encoding,
  method: fc.oneof({ weight: 9, arbitrary: fc.constant("POST") }, fc.constantFrom("GET", "PUT", "post", "")),
  path: fc.oneof(
    { weight: 9, arbitrary: fc.constant("/v1/events") },
    hostileText.map((text) => `/${text}`),
  ),
});

type Request = typeof request extends fc.Arbitrary<infer R> ? R : never;

function eventOf(sent: Request): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = { ...sent.headers };
  if (sent.contentType !== undefined) headers["content-type"] = sent.contentType;
  const body =
    sent.encoding === "text"
      ? sent.body.toString("utf8")
      : sent.encoding === "base64"
        ? sent.body.toString("base64")
        : `!!${sent.body.toString("latin1")}==`;
  const event: APIGatewayProxyEventV2 = {
    version: "2.0",
    routeKey: "POST /v1/events",
    rawPath: sent.path,
    rawQueryString: "",
    headers,
    requestContext: {
      accountId: "000000000000",
      apiId: "fuzz",
      domainName: "localhost",
      domainPrefix: "fuzz",
      http: {
        method: sent.method,
        path: sent.path,
        protocol: "HTTP/1.1",
        sourceIp: "127.0.0.1",
        userAgent: "",
      },
      requestId: randomUUID(),
      routeKey: "POST /v1/events",
      stage: "$default",
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(sent.body.length > 0 && { body }),
    isBase64Encoded: sent.encoding !== "text",
  };
  withSignature(event, sent.signature);
  return event;
}

/** Adds the signature headers `signature` names, computed over what the handler will read as the body. */
function withSignature(
  event: APIGatewayProxyEventV2,
  signature: (typeof SIGNATURE_KINDS)[number] | Record<string, string>,
): void {
  if (typeof signature !== "string") {
    Object.assign(event.headers, signature);
    return;
  }
  if (signature === "none") return;
  const now = Math.floor(Date.now() / 1000);
  const bytes = rawBody(event);
  const signed =
    signature === "valid"
      ? signedHeaders(SIGNING_SECRET, bytes, { timestampSeconds: now })
      : signature === "stale"
        ? signedHeaders(SIGNING_SECRET, bytes, { timestampSeconds: now - 301 })
        : signature === "other-body"
          ? signedHeaders(SIGNING_SECRET, Buffer.concat([bytes, Buffer.from(" ")]))
          : signedHeaders(generateSigningSecret(), bytes);
  Object.assign(event.headers, signed);
}

const context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: "IngestApi",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:IngestApi",
  memoryLimitInMB: "1024",
  awsRequestId: "fuzz",
  logGroupName: "/aws/lambda/IngestApi",
  logStreamName: "fuzz",
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

const CONTRACT_CODES = new Set([
  "INVALID_JSON",
  "INVALID_ENVELOPE",
  "BAD_REQUEST",
  "UNAUTHORIZED",
  "INVALID_SIGNATURE",
  "FORBIDDEN",
  "VENDOR_PAUSED",
  "NOT_FOUND",
  "METHOD_NOT_ALLOWED",
  "IDEMPOTENCY_CONFLICT",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "RATE_LIMITED",
  "UNAVAILABLE",
]);

const ENVELOPE_FIELDS = [
  "vendorId",
  "externalEventId",
  "eventType",
  "occurredAt",
  "schemaVersion",
  "payload",
];

/** Checks one answer against the contract; returns its parsed body. */
function expectContractAnswer(result: APIGatewayProxyStructuredResultV2, requestId: string) {
  expect(result.statusCode).toBeLessThan(500);
  expect(result.headers?.["content-type"]).toBe("application/json");
  expect(result.headers?.["x-request-id"]).toBe(requestId);
  const body = JSON.parse(String(result.body));
  if ((result.statusCode ?? 0) >= 400) {
    expect(body).toMatchObject({
      error: { code: expect.any(String), message: expect.any(String) },
      requestId,
    });
    expect(CONTRACT_CODES).toContain(body.error.code);
    if (body.error.code === "INVALID_ENVELOPE") expect(body.error.details.length).toBeGreaterThan(0);
  }
  return body;
}

describe("the ingest handler under fuzzing", () => {
  beforeAll(async () => {
    installStores();
    await seedVendors();
  });

  it(`never answers 5xx and stores nothing for a refused request (${RUNS} requests)`, async () => {
    const statuses = new Map<string, number>();
    const started = performance.now();

    await fc.assert(
      fc.asyncProperty(request, async (sent) => {
        const event = eventOf(sent);
        const before = stored();

        const result = (await handler(event, context)) as APIGatewayProxyStructuredResultV2;

        const body = expectContractAnswer(result, event.requestContext.requestId);
        const outcome = result.statusCode === 202 ? body.status : body.error.code;
        statuses.set(outcome, (statuses.get(outcome) ?? 0) + 1);
        const after = stored();
        if (result.statusCode === 202 && body.status === "ACCEPTED") {
          expect(after).toEqual({
            records: before.records + 1,
            raw: before.raw + 1,
            executions: before.executions + 1,
          });
          // What was archived is what was sent, byte for byte, and only envelope fields were accepted.
          const raw = [...objects.entries()].find(([key]) => key.endsWith(`/${body.ingestId}.json`))?.[1];
          const sentBytes = event.isBase64Encoded
            ? Buffer.from(String(event.body), "base64")
            : Buffer.from(String(event.body));
          expect(raw?.equals(sentBytes)).toBe(true);
          for (const field of Object.keys(JSON.parse(String(raw)))) expect(ENVELOPE_FIELDS).toContain(field);
        } else {
          expect(after).toEqual(before);
        }
      }),
      { numRuns: RUNS, seed: Number(process.env.DVSS_FUZZ_SEED ?? 20_260_130) },
    );

    const seconds = (performance.now() - started) / 1000;
    const summary = [...statuses.entries()].sort(([, a], [, b]) => b - a);
    console.info(`ingest fuzz: ${RUNS} requests in ${seconds.toFixed(1)} s`, Object.fromEntries(summary));
    // The run must have reached every part of the handler, not only the first refusal.
    expect(statuses.get("ACCEPTED")).toBeGreaterThan(100);
    for (const code of [
      "DUPLICATE",
      "IDEMPOTENCY_CONFLICT",
      "INVALID_ENVELOPE",
      "INVALID_JSON",
      "UNAUTHORIZED",
      "INVALID_SIGNATURE",
      "VENDOR_PAUSED",
    ]) {
      expect(statuses.get(code) ?? 0).toBeGreaterThan(0);
    }
  }, 120_000);

  it("routes any method and path to a route or to the contract's 400, 404 or 405 (2,000 requests)", () => {
    const method = fc.oneof(
      fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"),
      hostileText,
    );
    const segment = fc.oneof(
      fc.constantFrom(
        "v1",
        "events",
        "state",
        "inventory",
        "orders",
        "feed",
        "healthz",
        "%",
        "%ZZ",
        "%C0%80",
        "%E2%82",
        "%2F",
        "",
      ),
      hostileText.map((text) => encodeURIComponent(text.toWellFormed())),
      hostileText,
    );
    const target = fc.oneof(
      fc.array(segment, { maxLength: 6 }).map((segments) => `/${segments.join("/")}`),
      fc.constantFrom(
        "/v1/events/%",
        "/v1/state/orders/%ZZ",
        "//x/y",
        "http://[bad",
        "*",
        "/v1/feed?after=%",
      ),
    );
    fc.assert(
      fc.property(method, target, (verb, path) => {
        const requestId = randomUUID();
        const routing = routeRequest(verb, path, requestId);
        if ("answer" in routing) {
          expect([400, 404, 405]).toContain(routing.answer.statusCode);
          expectContractAnswer(routing.answer, requestId);
        } else {
          expect(routing.route.method).toBe(verb);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
