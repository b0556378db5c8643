import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEntities, type TableNames } from "../src/entities/index.ts";
import { DvssError } from "../src/errors.ts";
import { ingestEvent } from "../src/ingest.ts";
import { storeCall } from "../src/state/store.ts";
import { type AwsAnswer, DYNAMODB, fakeAws, RAW_OBJECT_ARN, RECORDS_TABLE_ARN, S3 } from "./aws-errors.ts";
import { seedEnvelope } from "./fixtures.ts";

/** What a caller gets: a DvssError's code and details, or INTERNAL for anything else. */
function outcomeOf(failure: unknown) {
  return failure instanceof DvssError
    ? { code: failure.code, details: failure.details }
    : { code: "INTERNAL", details: [] };
}

const retried = { code: "UNAVAILABLE", details: [] };
const internal = { code: "INTERNAL", details: [] };
const deniedGrant = (action: string, resource: string) => ({
  code: "ACCESS_DENIED",
  details: [
    { path: "action", message: action },
    { path: "resource", message: resource },
  ],
});

/** DynamoDB's answers, and the one outcome each must have wherever it happens. */
const DYNAMODB_CASES: [string, AwsAnswer, unknown][] = [
  ["ProvisionedThroughputExceededException (400)", DYNAMODB.throughputExceeded, retried],
  ["ThrottlingException (400)", DYNAMODB.throttled, retried],
  ["InternalServerError (500)", DYNAMODB.internal, retried],
  ["AccessDeniedException (400)", DYNAMODB.accessDenied, deniedGrant("dynamodb:GetItem", RECORDS_TABLE_ARN)],
  ["ValidationException (400)", DYNAMODB.invalid, internal],
];

/** S3's answers to the raw archive write. */
const S3_CASES: [string, AwsAnswer, unknown][] = [
  ["SlowDown (503)", S3.slowDown, retried],
  ["RequestTimeout (400)", S3.requestTimeout, retried],
  ["AccessDenied (403)", S3.accessDenied, deniedGrant("s3:PutObject", RAW_OBJECT_ARN)],
  ["NoSuchBucket (404)", S3.noSuchBucket, internal],
];

let dynamodb: Awaited<ReturnType<typeof fakeAws>>;
let s3: Awaited<ReturnType<typeof fakeAws>>;
beforeAll(async () => {
  [dynamodb, s3] = await Promise.all([fakeAws(), fakeAws()]);
});
afterAll(async () => {
  await Promise.all([dynamodb?.close(), s3?.close()]);
});

const principal = { vendorId: "vendorA", role: "vendor" as const, rateLimitPerSecond: 100 };
const body = Buffer.from(JSON.stringify(seedEnvelope));

/** The ingest path with its DynamoDB and S3 on the fake endpoints. */
function ingestPorts() {
  return {
    entities: dynamodb.dynamodb,
    rawBucket: "dvss-prod-raw",
    async putRawObject(key: string, object: Buffer) {
      await s3.s3.send(new PutObjectCommand({ Bucket: "dvss-prod-raw", Key: key, Body: object }));
    },
    async deleteRawObject() {},
    async startExecution() {},
  };
}

describe("the one classification of a failed AWS call", () => {
  it.each(DYNAMODB_CASES)(
    "DynamoDB %s: the same outcome from storeCall and ingest",
    async (_, answer, expected) => {
      dynamodb.answer = answer;

      const fromStoreCall = await storeCall("Read an ingest record", () =>
        dynamodb.dynamodb.ingestRecords.get({ vendorId: "vendorA", externalEventId: "x" }).go(),
      ).catch((error: unknown) => error);
      const fromIngest = await ingestEvent(ingestPorts(), principal, body).catch((error: unknown) => error);

      expect(outcomeOf(fromStoreCall)).toEqual(expected);
      expect(outcomeOf(fromIngest)).toEqual(expected);
    },
  );

  it.each(S3_CASES)("S3 %s at the raw archive write of ingest", async (_, answer, expected) => {
    dynamodb.answer = { status: 200, headers: { "content-type": "application/x-amz-json-1.0" }, body: "{}" };
    s3.answer = answer;

    const failure = await ingestEvent(ingestPorts(), principal, body).catch((error: unknown) => error);

    expect(outcomeOf(failure)).toEqual(expected);
  });

  it("calls a store that refuses the connection unavailable, naming the call", async () => {
    const client = new DynamoDBClient({
      endpoint: "http://127.0.0.1:9",
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: 1,
    });
    const tables = new Proxy({}, { get: (_, name) => String(name) }) as TableNames;
    try {
      const failure = await storeCall("Read order state", () =>
        createEntities(client, tables).orderStates.get({ orderId: "SO-1" }).go(),
      ).catch((error: unknown) => error);

      expect(outcomeOf(failure)).toEqual(retried);
      expect((failure as Error).message).toBe(
        "A store did not answer (Read order state): connect ECONNREFUSED 127.0.0.1:9",
      );
    } finally {
      client.destroy();
    }
  });

  it("says what a refused grant is, with the action and resource, in the message too", async () => {
    dynamodb.answer = DYNAMODB.accessDenied;

    const failure = await storeCall("Read an ingest record", () =>
      dynamodb.dynamodb.ingestRecords.get({ vendorId: "vendorA", externalEventId: "x" }).go(),
    ).catch((error: unknown) => error);

    expect(failure).toMatchObject({ name: "AccessDeniedError", transience: "permanent" });
    expect((failure as Error).message).toBe(
      `Access denied (Read an ingest record): dynamodb:GetItem on ${RECORDS_TABLE_ARN} is not allowed. A configuration error: grant the function that permission`,
    );
  });
});
