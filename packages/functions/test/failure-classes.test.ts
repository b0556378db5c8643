import { GetObjectCommand } from "@aws-sdk/client-s3";
import { DvssError, ERROR_CODES, TRANSIENT_ERROR_NAMES } from "@dvss/core/errors";
import { decodeTaskFailure } from "@dvss/core/failures";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type AwsAnswer,
  DYNAMODB,
  fakeAws,
  RAW_OBJECT_ARN,
  RECORDS_TABLE_ARN,
  S3,
} from "../../core/test/aws-errors.ts";
import { httpHandler } from "../src/lib/http.ts";
import { taskHandler } from "../src/lib/task.ts";
import { lambdaContext, logsOf, taskState } from "./lambda.ts";

// The logger reads its level once, when lib/aws.ts is imported: INFO, so rejected requests show too.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = "INFO";
});

const state = taskState("01JTASKTEST000000000000003");

const context = lambdaContext("request-3");

const request = {
  requestContext: { requestId: "req-3" },
  headers: {},
} as unknown as APIGatewayProxyEventV2;

let aws: Awaited<ReturnType<typeof fakeAws>>;
beforeAll(async () => {
  aws = await fakeAws();
});
afterAll(async () => {
  await aws?.close();
});

/** What a real SDK call throws when AWS answers `answer`. */
async function sdkErrorFor(service: "dynamodb" | "s3", answer: AwsAnswer): Promise<unknown> {
  aws.answer = answer;
  const call =
    service === "dynamodb"
      ? aws.dynamodb.ingestRecords.get({ vendorId: "vendorA", externalEventId: "x" }).go()
      : aws.s3.send(new GetObjectCommand({ Bucket: "dvss-prod-raw", Key: "raw/x.json" }));
  return call.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (error: unknown) => error,
  );
}

const denied = (action: string, resource: string) => ({
  name: "AccessDeniedError",
  code: "ACCESS_DENIED",
  details: [
    { path: "action", message: action },
    { path: "resource", message: resource },
  ],
});

describe("a task's failed AWS call", () => {
  it.each([
    [
      "dynamodb",
      "throttled",
      DYNAMODB.throughputExceeded,
      { name: "StorageUnavailableError", code: "UNAVAILABLE" },
    ],
    ["dynamodb", "5xx", DYNAMODB.internal, { name: "StorageUnavailableError", code: "UNAVAILABLE" }],
    ["s3", "5xx SlowDown", S3.slowDown, { name: "StorageUnavailableError", code: "UNAVAILABLE" }],
    ["dynamodb", "access denied", DYNAMODB.accessDenied, denied("dynamodb:GetItem", RECORDS_TABLE_ARN)],
    ["s3", "access denied", S3.accessDenied, denied("s3:PutObject", RAW_OBJECT_ARN)],
    ["dynamodb", "invalid", DYNAMODB.invalid, { code: "INTERNAL" }],
    ["s3", "no such bucket", S3.noSuchBucket, { name: "NoSuchBucket", code: "INTERNAL" }],
  ] as const)("%s %s: reported as the one classification says", async (service, _, answer, expected) => {
    const thrown = await sdkErrorFor(service, answer);
    const handler = taskHandler("Map", async () => {
      throw thrown;
    });

    let reported: Error | undefined;
    await logsOf(() => handler(state, context).catch((error: unknown) => (reported = error as Error)));
    const failure = decodeTaskFailure(reported?.name ?? "", reported?.message);

    expect({ name: reported?.name, ...failure }).toMatchObject(expected);
    // Retried exactly when it is a store that did not answer.
    expect(TRANSIENT_ERROR_NAMES.includes(reported?.name as never)).toBe(failure.code === "UNAVAILABLE");
  });
});

describe("a route's failure", () => {
  it("answers a refused grant 503 UNAVAILABLE, and logs it as ACCESS_DENIED with the action and resource", async () => {
    const thrown = await sdkErrorFor("s3", S3.accessDenied);
    const handler = httpHandler(async () => {
      throw thrown;
    });

    let response: APIGatewayProxyStructuredResultV2 | undefined;
    const logs = await logsOf(async () => {
      response = await handler(request, context);
    });

    expect(response?.statusCode).toBe(503);
    const body = JSON.parse(String(response?.body)) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("UNAVAILABLE");
    expect(body.error.message).not.toContain("arn:");
    expect(logs).toEqual([
      expect.objectContaining({
        level: "ERROR",
        message: "request failed",
        errorCode: "ACCESS_DENIED",
        errorMessage: expect.stringContaining("A configuration error"),
        details: denied("s3:PutObject", RAW_OBJECT_ARN).details,
      }),
    ]);
  });

  it("answers a store that did not answer 503 even when the route did not wrap the call", async () => {
    const thrown = await sdkErrorFor("dynamodb", DYNAMODB.throttled);
    const handler = httpHandler(async () => {
      throw thrown;
    });

    const response = await handler(request, context);

    expect(response.statusCode).toBe(503);
    expect(JSON.parse(String(response.body)).error.code).toBe("UNAVAILABLE");
  });

  it.each(["FEED_INCONSISTENT", "QUANTITY_OUT_OF_RANGE"] as const)(
    "answers %s, a code no route raises, 500 INTERNAL and logs the code (not an unexplained 500)",
    async (code) => {
      const handler = httpHandler(async () => {
        throw new DvssError(code, "inside detail");
      });

      let response: APIGatewayProxyStructuredResultV2 | undefined;
      const logs = await logsOf(async () => {
        response = await handler(request, context);
      });

      expect(response?.statusCode).toBe(500);
      expect(JSON.parse(String(response?.body)).error).toEqual({
        code: "INTERNAL",
        message: "An unexpected error occurred",
      });
      expect(logs).toEqual([
        expect.objectContaining({
          message: "request failed",
          errorCode: code,
          errorMessage: "inside detail",
        }),
      ]);
    },
  );

  it.each([...ERROR_CODES])("answers %s with the status its row decides, and logs its code", async (code) => {
    const handler = httpHandler(async () => {
      throw new DvssError(code, "message");
    });

    let response: APIGatewayProxyStructuredResultV2 | undefined;
    const logs = await logsOf(async () => {
      response = await handler(request, context);
    });

    const status = response?.statusCode ?? 0;
    expect([400, 401, 403, 404, 409, 413, 415, 429, 500, 503]).toContain(status);
    expect(JSON.parse(String(response?.body)).error.code).toBe(
      status === 500 ? "INTERNAL" : status === 503 ? "UNAVAILABLE" : code,
    );
    expect(logs).toEqual([expect.objectContaining({ errorCode: code })]);
  });
});
