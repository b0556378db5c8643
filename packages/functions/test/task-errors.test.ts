import { SchemaValidationError } from "@dvss/core/errors";
import { decodeTaskFailure } from "@dvss/core/failures";
import { describe, expect, it } from "vitest";
import { inStage, taskHandler, taskInputLine } from "../src/lib/task.ts";
import { lambdaContext, taskState } from "./lambda.ts";

const state = taskState("01JTASKTEST000000000000001");

const context = lambdaContext("request-2");

async function failureOf(thrown: unknown): Promise<Error> {
  const handler = taskHandler("Map", async () => {
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
    expect(decodeTaskFailure(reported.name, reported.message)).toEqual({
      code: "INTERNAL",
      message: "Cannot read properties of undefined (reading 'fold')",
      details: [],
      reported: true,
    });
  });

  it("is reported as INTERNAL when what was thrown is not even an Error", async () => {
    const reported = await failureOf({ reason: "not an error" });

    expect(decodeTaskFailure(reported.name, reported.message).code).toBe("INTERNAL");
  });
});

describe("a failure inside a step of a task (inStage)", () => {
  it("is reported with the step as its stage, the innermost step winning", async () => {
    const invalid = new SchemaValidationError("Payload does not match vendorA/inventory_update/1", {
      details: [{ path: "payload.qty", message: "must be integer" }],
    });
    const handler = taskHandler("Map", () =>
      inStage("Map", () =>
        inStage("Validate", () => {
          throw invalid;
        }),
      ),
    );
    const reported = await handler(state, context).then(
      () => new Error("expected the task to fail"),
      (error: unknown) => error as Error,
    );

    expect(reported.name).toBe("SchemaValidationError");
    expect(decodeTaskFailure(reported.name, reported.message)).toEqual({
      code: "SCHEMA_VALIDATION_FAILED",
      message: invalid.message,
      details: invalid.details,
      stage: "Validate",
      reported: true,
    });
  });

  it("is reported without a stage outside any step, and a stage that is not one is ignored", async () => {
    const reported = await failureOf(new TypeError("boom"));
    expect(decodeTaskFailure(reported.name, reported.message)).not.toHaveProperty("stage");

    const forged = JSON.stringify({ code: "INTERNAL", message: "boom", details: [], stage: "Elsewhere" });
    expect(decodeTaskFailure("Error", forged)).toEqual({
      code: "INTERNAL",
      message: "boom",
      details: [],
      reported: true,
    });
  });
});

describe("a task's input line", () => {
  it("names the task and the keys of the objects it was handed, not the ids the line carries already", () => {
    const normalizedRef = {
      bucket: "dvss-test-normalized",
      key: "normalized/InventoryUpdated/2026/01/30/x.json",
    };
    const normalized = { normalizedRef, standardEventType: "InventoryUpdated", mappingVersion: "1" };

    expect(taskInputLine("Map", state)).toEqual({ task: "Map", rawKey: state.rawRef.key });
    expect(taskInputLine("UpdateStatus", { ...state, normalized, outcome: "NORMALIZED" })).toEqual({
      task: "UpdateStatus",
      rawKey: state.rawRef.key,
      normalizedKey: normalizedRef.key,
      outcome: "NORMALIZED",
    });
  });
});
