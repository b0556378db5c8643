import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "../src/auth.ts";
import { type IngestPorts, ingestEvent } from "../src/ingest.ts";
import { startTestStores } from "./stores.ts";

/*
 * Ingest's own start of the workflow, when Step Functions does not take it: the event is accepted
 * all the same (the record stays RECEIVED for the reconciler), and a start that was refused is no
 * execution, so it does not use up the event's first attempt.
 */

let stores: Awaited<ReturnType<typeof startTestStores>>;
beforeAll(async () => {
  stores = await startTestStores("ingest-start-test");
});
afterAll(() => stores?.close());

const principal: Principal = { vendorId: "vendorA", role: "vendor" };
const body = (externalEventId: string) =>
  Buffer.from(
    JSON.stringify({
      vendorId: "vendorA",
      externalEventId,
      eventType: "inventory_update",
      occurredAt: "2026-11-30T10:00:00Z",
      schemaVersion: "1",
      payload: { sku: "ABC-001", qty: 5, warehouse: "ROA" },
    }),
  );

function portsStarting(start: () => Promise<void>): IngestPorts {
  return {
    entities: stores.entities,
    rawBucket: "dvss-test-raw",
    putRawObject: async () => undefined,
    deleteRawObject: async () => undefined,
    startExecution: start,
  };
}

const attemptsOf = async (externalEventId: string) =>
  (await stores.entities.ingestRecords.get({ vendorId: "vendorA", externalEventId }).go()).data;

describe("ingest's start of the workflow", () => {
  it("gives attempt 1 back when Step Functions refuses the start, and accepts the event", async () => {
    const refused = portsStarting(async () => {
      throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
    });

    const result = await ingestEvent(refused, principal, body("refused-start-1"));

    expect(result.status).toBe("ACCEPTED");
    expect(await attemptsOf("refused-start-1")).toMatchObject({ status: "RECEIVED", attempts: 0 });
  });

  it("keeps attempt 1 when the execution's name is taken: it was started after all", async () => {
    const started = portsStarting(async () => {
      throw Object.assign(new Error("Execution already exists"), { name: "ExecutionAlreadyExists" });
    });

    await ingestEvent(started, principal, body("started-after-all-1"));

    expect(await attemptsOf("started-after-all-1")).toMatchObject({ status: "RECEIVED", attempts: 1 });
  });

  it("counts attempt 1 when the start is taken", async () => {
    await ingestEvent(
      portsStarting(async () => undefined),
      principal,
      body("started-1"),
    );

    expect(await attemptsOf("started-1")).toMatchObject({ attempts: 1 });
  });
});
