import type { NormalizeState } from "@dvss/core/workflow";
import type { Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { parseTaskFailure, taskHandler } from "../src/lib/task.ts";

const state = {
  ingestId: "01JTASKTEST000000000000001",
  vendorId: "vendorA",
  externalEventId: "inv-1",
} as NormalizeState;

const context = {
  functionName: "dvss-test-Task",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:dvss-test-Task",
  memoryLimitInMB: "128",
  awsRequestId: "request-2",
  getRemainingTimeInMillis: () => 30_000,
} as Context;

async function failureOf(thrown: unknown): Promise<Error> {
  const handler = taskHandler(async () => {
    throw thrown;
  });
  return handler(state, context).then(
    () => {
      throw new Error("expected the task to fail");
    },
    (error: unknown) => error as Error,
  );
}

describe("a task's unexpected failure", () => {
  it("is reported as INTERNAL with its own name and message when it has no cause", async () => {
    const reported = await failureOf(new TypeError("Cannot read properties of undefined (reading 'fold')"));

    expect(reported.name).toBe("TypeError");
    expect(parseTaskFailure(reported.name, reported.message)).toEqual({
      code: "INTERNAL",
      message: "Cannot read properties of undefined (reading 'fold')",
      details: [],
    });
  });

  it("is reported as INTERNAL when what was thrown is not even an Error", async () => {
    const reported = await failureOf({ reason: "not an error" });

    expect(parseTaskFailure(reported.name, reported.message).code).toBe("INTERNAL");
  });
});
