import { describe, expect, it } from "vitest";
import { parseTaskFailure, taskHandler } from "../src/lib/task.ts";
import { lambdaContext, taskState } from "./lambda.ts";

const state = taskState("01JTASKTEST000000000000001");

const context = lambdaContext("request-2");

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
