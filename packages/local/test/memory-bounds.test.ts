import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_CREDENTIALS } from "../src/clients.ts";
import { REPO_ROOT } from "../src/lambda.ts";
import { HEAP_BOUNDS, MEMORY_PATH, type MemoryReport, RUNTIME_NODE_FLAGS } from "../src/memory.ts";
import { LocalStepFunctions } from "../src/step-functions.ts";
import { type Harness, seedEnvelope, startHarness } from "./harness.ts";

// A burst well past what the workflow runs at once: the executions wait in the queue, the stores
// and the tasks work under their heap bounds, and every event still ends NORMALIZED.
const EVENTS = 1_000;
const CONCURRENCY = 32;
const MIB = 1024 * 1024;

describe("the runtime's memory bounds", () => {
  let dvss: Harness;
  beforeAll(async () => {
    dvss = await startHarness();
    // The burst measures the runtime, not vendorA's rate limit: lifted before its first request.
    await dvss.entities.vendors.patch({ vendorId: "vendorA" }).set({ rateLimitPerSecond: 1_000_000 }).go();
  });
  afterAll(() => dvss?.close());

  it("npm start runs the runtime with the heap bounds the bench starts it with", () => {
    const { scripts } = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
    const command = String(scripts.start).split(" ");
    const main = command.indexOf("packages/local/src/main.ts");
    expect(main).toBeGreaterThan(0);
    expect(command.slice(0, main)).toEqual(expect.arrayContaining(RUNTIME_NODE_FLAGS));
  });

  it(`takes a burst of ${EVENTS} events with every worker's heap bounded, and ends every one NORMALIZED`, async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < EVENTS) {
          const n = next++;
          const response = await dvss.post({
            ...seedEnvelope,
            externalEventId: `burst-${n}`,
            payload: { ...seedEnvelope.payload, sku: `BURST-${n % 50}` },
          });
          expect(response.status).toBe(202);
        }
      }),
    );
    // Read while the backlog runs: every thread answers, each worker under its bound.
    const response = await fetch(new URL(MEMORY_PATH, dvss.endpoints.api));
    const report = (await response.json()) as MemoryReport;
    await dvss.runtime.stepFunctions.drain();

    expect(Object.keys(report.threads).sort()).toEqual(["api", "dynalite", "s3rver", "tasks"]);
    // Old generation plus young (three semi-spaces), and V8's own margin; unbounded, ~4 GB here.
    const bound = (HEAP_BOUNDS.oldGenerationMb + 3 * HEAP_BOUNDS.semiSpaceMb) * MIB;
    for (const name of ["tasks", "dynalite", "s3rver"]) {
      expect(report.threads[name]?.limitBytes, name).toBeLessThanOrEqual(bound * 1.1);
    }
    const records = (await dvss.records()).filter((record) => record.externalEventId.startsWith("burst-"));
    const byStatus = Object.groupBy(records, (record) => record.status);
    expect({ records: records.length, normalized: byStatus.NORMALIZED?.length }).toEqual({
      records: EVENTS,
      normalized: EVENTS,
    });
  }, 120_000);

  it("refuses a start with ThrottlingException while the executions waiting to run are at their bound", async () => {
    const dynamodb = new DynamoDBClient({
      endpoint: dvss.endpoints.dynamodb,
      region: dvss.endpoints.region,
      credentials: LOCAL_CREDENTIALS,
    });
    const held = Promise.withResolvers<void>();
    const arn = "arn:aws:states:us-east-1:000000000000:stateMachine:bounded";
    const stepFunctions = new LocalStepFunctions({
      dynamodb,
      table: dvss.endpoints.executionsTable,
      stateMachine: {
        name: "bounded",
        arn,
        definition: {
          StartAt: "Hold",
          States: {
            Hold: {
              Type: "Task",
              Resource: "arn:aws:lambda:us-east-1:000000000000:function:hold",
              End: true,
            },
          },
        } as never,
        tasks: { Hold: () => held.promise.then(() => ({})) },
      },
      maxConcurrent: 1,
      maxWaiting: 2,
    });
    try {
      // One runs, two wait: the bound.
      for (const name of ["run-1", "wait-1", "wait-2"]) await stepFunctions.startExecution(arn, name, "{}");
      await expect(stepFunctions.startExecution(arn, "refused", "{}")).rejects.toMatchObject({
        type: "ThrottlingException",
      });
      held.resolve();
      await stepFunctions.drain();
      // The queue ran down: starts are taken again, and the refused one never ran.
      await stepFunctions.startExecution(arn, "after", "{}");
      await stepFunctions.drain();
      expect(
        (await stepFunctions.describeExecution(`${arn.replace("stateMachine", "execution")}:after`)).status,
      ).toBe("SUCCEEDED");
      await expect(
        stepFunctions.describeExecution(`${arn.replace("stateMachine", "execution")}:refused`),
      ).rejects.toMatchObject({ type: "ExecutionDoesNotExist" });
    } finally {
      held.resolve();
      await stepFunctions.close();
      dynamodb.destroy();
    }
  });
});
