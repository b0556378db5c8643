import { EnvelopeError, SchemaValidationError, StorageUnavailableError } from "@dvss/core/errors";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { describe, expect, it, vi } from "vitest";
import { httpHandler } from "../src/lib/http.ts";
import { taskHandler } from "../src/lib/task.ts";
import { lambdaContext, logsOf, taskState } from "./lambda.ts";

// The logger reads its level once, when lib/aws.ts is imported: INFO, so rejected requests and a
// reserved-key warning show too.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = "INFO";
});

const state = taskState("01JTASKTEST000000000000000");

const context = lambdaContext("request-1");

describe("a failed task's log", () => {
  it("keeps the failure's message and the cause chain of a StorageUnavailableError", async () => {
    const socket = new Error("socket hang up");
    const sdkError = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8000", { cause: socket }), {
      name: "TimeoutError",
      $metadata: {},
    });
    const handler = taskHandler("Map", async () => {
      throw sdkError;
    });

    let thrown: unknown;
    const logs = await logsOf(() => handler(state, context).catch((error: unknown) => (thrown = error)));

    expect((thrown as Error).name).toBe("StorageUnavailableError");
    const failed = logs.filter((log) => log.message === "task failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      level: "ERROR",
      ingestId: state.ingestId,
      errorName: "StorageUnavailableError",
      errorCode: "UNAVAILABLE",
      errorMessage: "A store did not answer: connect ECONNREFUSED 127.0.0.1:8000",
      details: [],
      error: {
        name: "StorageUnavailableError",
        message: "A store did not answer: connect ECONNREFUSED 127.0.0.1:8000",
        cause: {
          name: "TimeoutError",
          message: "connect ECONNREFUSED 127.0.0.1:8000",
          cause: { name: "Error", message: "socket hang up" },
        },
      },
    });
    expect(logs.map((log) => String(log.message))).not.toContainEqual(expect.stringMatching(/reserved key/));
  });

  it("keeps a DvssError's code, message and field details", async () => {
    const invalid = new SchemaValidationError("The payload breaks 1 rule(s): payload.qty", {
      details: [{ path: "payload.qty", message: "must be integer" }],
    });
    const handler = taskHandler("Map", async () => {
      throw invalid;
    });

    const logs = await logsOf(() => handler(state, context));

    expect(logs.filter((log) => log.message !== "cold start")).toEqual([
      // At INFO the failure only: which task started with what is a DEBUG line ("task input"). The
      // line has the event's ids and when it was received: the time its ingestId (a ULID) carries.
      expect.objectContaining({
        level: "ERROR",
        message: "task failed",
        function_name: "dvss-test-Task",
        ingestId: state.ingestId,
        receivedAt: "2025-05-03T10:03:34.233Z",
        errorCode: "SCHEMA_VALIDATION_FAILED",
        errorMessage: "The payload breaks 1 rule(s): payload.qty",
        details: [{ path: "payload.qty", message: "must be integer" }],
        error: expect.objectContaining({ name: "SchemaValidationError", code: "SCHEMA_VALIDATION_FAILED" }),
      }),
    ]);
  });
});

describe("a failed request's log", () => {
  const request = {
    requestContext: { requestId: "req-1" },
    headers: {},
  } as unknown as APIGatewayProxyEventV2;

  it("keeps a rejected request's code and message", async () => {
    const handler = httpHandler(async () => {
      throw new EnvelopeError("The envelope breaks 1 rule(s): occurredAt");
    });

    const logs = await logsOf(() => handler(request, context));

    expect(logs).toEqual([
      expect.objectContaining({
        level: "INFO",
        message: "request rejected",
        errorCode: "INVALID_ENVELOPE",
        errorMessage: "The envelope breaks 1 rule(s): occurredAt",
      }),
    ]);
  });

  it("keeps the cause of a store that did not answer", async () => {
    const handler = httpHandler(async () => {
      throw new StorageUnavailableError("A store did not answer", { cause: new Error("connect ETIMEDOUT") });
    });

    const logs = await logsOf(() => handler(request, context));

    expect(logs).toEqual([
      expect.objectContaining({
        level: "ERROR",
        message: "request failed",
        errorCode: "UNAVAILABLE",
        error: expect.objectContaining({
          message: "A store did not answer",
          cause: expect.objectContaining({ message: "connect ETIMEDOUT" }),
        }),
      }),
    ]);
  });
});
