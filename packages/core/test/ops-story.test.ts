import { describe, expect, it } from "vitest";
import type { OpsContext, Target } from "../src/ops/context.ts";
import { loadEventStory, stepsOf } from "../src/ops/story.ts";

const INGEST_ID = "01M87CBA4669PDZZRB3BW8F640";
const MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:dvss-prod-Normalize";

/** A context whose stores answer from memory and whose Step Functions answers with `sfn`. */
function contextWith(
  sfn: (command: { constructor: { name: string }; input: Record<string, unknown> }) => unknown,
) {
  const record = {
    ingestId: INGEST_ID,
    vendorId: "vendorA",
    externalEventId: "e-1",
    attempts: 3,
    status: "NORMALIZED",
  };
  const go = (data: unknown) => ({ go: async () => ({ data }) });
  return {
    target: {
      stateMachineArn: MACHINE,
      executionLogGroup: "/aws/vendedlogs/states/dvss-prod-Normalize",
    } as Target,
    entities: {
      ingestRecords: { query: { byIngestId: () => go([record]) }, get: () => go(record) },
      quarantine: { get: () => go(null) },
      divergences: { query: { byIngestId: () => go([]) } },
    },
    sfn: { send: async (command: never) => sfn(command) },
  } as unknown as OpsContext;
}

const notFound = () =>
  Object.assign(new Error("Execution does not exist"), { name: "ExecutionDoesNotExist" });

describe("loading an event's story from a deployed stage", () => {
  it("explains where Express executions are, since the API cannot list them", async () => {
    const context = contextWith((command) => {
      if (command.constructor.name === "ListExecutionsCommand") {
        throw Object.assign(new Error("This operation is not supported by EXPRESS state machines"), {
          name: "StateMachineTypeNotSupported",
        });
      }
      throw notFound();
    });

    const story = await loadEventStory(context, INGEST_ID);

    expect(story.executions).toEqual([]);
    expect(story.executionsNote).toContain("/aws/vendedlogs/states/dvss-prod-Normalize");
    expect(story.executionsNote).toContain(INGEST_ID);
  });

  it("finds executions a listing missed by the names the record's attempts imply", async () => {
    const described: string[] = [];
    const context = contextWith((command) => {
      switch (command.constructor.name) {
        case "ListExecutionsCommand":
          return { executions: [] };
        case "DescribeExecutionCommand": {
          const arn = String(command.input.executionArn);
          described.push(arn.split(":").pop() ?? "");
          if (!arn.endsWith(`:${INGEST_ID}`) && !arn.endsWith(`:${INGEST_ID}-replay-3`)) throw notFound();
          return {
            executionArn: arn,
            status: "SUCCEEDED",
            startDate: new Date(arn.endsWith("-3") ? 2_000 : 1_000),
          };
        }
        default:
          return { events: [] };
      }
    });

    const story = await loadEventStory(context, INGEST_ID);

    expect(story.executions.map((execution) => execution.name)).toEqual([INGEST_ID, `${INGEST_ID}-replay-3`]);
    expect(described).toEqual(
      expect.arrayContaining([`${INGEST_ID}-reconcile-2`, `${INGEST_ID}-redrive-3`, `${INGEST_ID}-replay-3`]),
    );
  });
});

describe("steps from an AWS execution history", () => {
  it("reads TaskFailed details, retries from repeated scheduling, and a caught failure", () => {
    const cause = JSON.stringify({
      errorType: "MappingError",
      errorMessage: JSON.stringify({ code: "MAPPING_FAILED", message: "bad quantity", details: [] }),
    });
    const events = [
      { type: "TaskStateEntered", stateEnteredEventDetails: { name: "Map", input: '{"ingestId":"x"}' } },
      { type: "TaskScheduled" },
      { type: "TaskFailed", taskFailedEventDetails: { error: "StorageUnavailableError", cause: "{}" } },
      { type: "TaskScheduled" },
      { type: "TaskFailed", taskFailedEventDetails: { error: "MappingError", cause } },
      {
        type: "TaskStateExited",
        stateExitedEventDetails: {
          name: "Map",
          output: JSON.stringify({ error: { Error: "MappingError", Cause: cause } }),
        },
      },
      { type: "PassStateEntered", stateEnteredEventDetails: { name: "MapFailed", input: "{}" } },
      { type: "PassStateExited", stateExitedEventDetails: { name: "MapFailed", output: "{}" } },
    ];

    const { steps } = stepsOf(events as never);

    expect(steps).toHaveLength(2);
    expect(steps[0]).toMatchObject({
      state: "Map",
      type: "Task",
      status: "caught",
      retries: 1,
      input: { ingestId: "x" },
      error: { error: "MappingError", code: "MAPPING_FAILED", message: "bad quantity" },
    });
    expect(steps[1]).toMatchObject({ state: "MapFailed", status: "succeeded" });
  });
});
