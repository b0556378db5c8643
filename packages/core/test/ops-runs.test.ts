import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  executionName,
  executionNamesUpTo,
  ingestIdOfExecution,
  isExecutionOf,
} from "../src/ops/execution-names.ts";
import { claimAndStart, type RunnableRecord, type RunPorts, storeRunPorts } from "../src/ops/runs.ts";
import { startTestStores } from "./stores.ts";

const INGEST_ID = "01KRUNS0000000000000000001";
const NOW = Date.parse("2026-01-30T12:00:00Z");

const record: RunnableRecord = {
  ingestId: INGEST_ID,
  vendorId: "vendorA",
  externalEventId: "inv-1",
  rawBucket: "dvss-test-raw",
  rawKey: `raw/vendorA/2026/01/30/${INGEST_ID}.json`,
  attempts: 1,
};

/**
 * Run ports over one record in memory. `rivals` are the claims other runs make first: before
 * each of this run's claims, one rival takes the next attempt.
 */
function fakeRuns(options: { attempts?: number; status?: string; rivals?: number } = {}) {
  const stored = { attempts: options.attempts ?? 1, status: options.status ?? "FAILED_NORMALIZE" };
  let rivals = options.rivals ?? 0;
  const claims: { attempt: number; whileReceived: boolean }[] = [];
  const started: string[] = [];
  const ports: RunPorts = {
    records: {
      async claim(_key, attempt, _at, whileReceived) {
        if (rivals > 0) {
          rivals -= 1;
          stored.attempts += 1;
        }
        claims.push({ attempt, whileReceived });
        if (stored.attempts !== attempt - 1) return false;
        if (whileReceived && stored.status !== "RECEIVED") return false;
        stored.attempts = attempt;
        return true;
      },
      async release(_key, attempt) {
        if (stored.attempts === attempt) stored.attempts = attempt - 1;
      },
      attempts: async () => stored.attempts,
    },
    async startExecution(name) {
      started.push(name);
      return `arn:aws:states:us-east-1:000000000000:execution:dvss-test-Normalize:${name}`;
    },
    now: () => NOW,
  };
  return { ports, stored, claims, started };
}

describe("execution names", () => {
  it("names the first execution by the ingestId and each later run by its kind and attempt", () => {
    expect(executionName(INGEST_ID)).toBe(INGEST_ID);
    expect(executionName(INGEST_ID, { kind: "redrive", attempt: 3 })).toBe(`${INGEST_ID}-redrive-3`);
    // Attempt 1 is the first execution whoever starts it (ingest's start may have been refused).
    expect(executionName(INGEST_ID, { kind: "reconcile", attempt: 1 })).toBe(INGEST_ID);
  });

  it("tells whose execution a name is", () => {
    expect(ingestIdOfExecution(`${INGEST_ID}-reconcile-2`)).toBe(INGEST_ID);
    expect(ingestIdOfExecution(INGEST_ID)).toBe(INGEST_ID);
    expect(isExecutionOf(`${INGEST_ID}-replay-4`, INGEST_ID)).toBe(true);
    expect(isExecutionOf(`${INGEST_ID}X-replay-4`, INGEST_ID)).toBe(false);
  });

  it("lists every name an event's executions can have up to its attempts", () => {
    expect(executionNamesUpTo(INGEST_ID, 2)).toEqual([
      INGEST_ID,
      `${INGEST_ID}-reconcile-2`,
      `${INGEST_ID}-redrive-2`,
      `${INGEST_ID}-replay-2`,
    ]);
    expect(executionNamesUpTo(INGEST_ID, 0)).toEqual([INGEST_ID]);
  });
});

describe("claiming an attempt and starting a run", () => {
  it("claims the next attempt and starts the workflow under its name", async () => {
    const { ports, stored, claims, started } = fakeRuns();

    const run = await claimAndStart(ports, record, "redrive");

    expect(claims).toEqual([{ attempt: 2, whileReceived: false }]);
    expect(stored.attempts).toBe(2);
    expect(started).toEqual([`${INGEST_ID}-redrive-2`]);
    expect(run).toEqual({
      ingestId: INGEST_ID,
      executionName: `${INGEST_ID}-redrive-2`,
      executionArn: `arn:aws:states:us-east-1:000000000000:execution:dvss-test-Normalize:${INGEST_ID}-redrive-2`,
      attempt: 2,
      claimedAt: new Date(NOW).toISOString(),
    });
  });

  it("gives an operator's run the next attempt when another run took this one first", async () => {
    const { ports, claims, started } = fakeRuns({ rivals: 2 });

    const run = await claimAndStart(ports, record, "replay");

    expect(claims.map((claim) => claim.attempt)).toEqual([2, 3, 4]);
    expect(started).toEqual([`${INGEST_ID}-replay-4`]);
    expect(run.attempt).toBe(4);
  });

  it("gives up when other runs keep claiming, starting nothing", async () => {
    const { ports, started } = fakeRuns({ rivals: 99 });

    await expect(claimAndStart(ports, record, "redrive")).rejects.toThrow(
      `Could not claim a new attempt of ${INGEST_ID}: other runs keep claiming it`,
    );
    expect(started).toEqual([]);
  });

  it("restarts (reconcile) only while RECEIVED, and only the attempt it read", async () => {
    const received = fakeRuns({ status: "RECEIVED" });
    expect((await claimAndStart(received.ports, record, "reconcile"))?.executionName).toBe(
      `${INGEST_ID}-reconcile-2`,
    );
    expect(received.claims).toEqual([{ attempt: 2, whileReceived: true }]);

    const finished = fakeRuns({ status: "NORMALIZED" });
    expect(await claimAndStart(finished.ports, record, "reconcile")).toBeUndefined();
    expect(finished.started).toEqual([]);

    const overtaken = fakeRuns({ status: "RECEIVED", rivals: 1 });
    expect(await claimAndStart(overtaken.ports, record, "reconcile")).toBeUndefined();
    expect(overtaken.claims).toHaveLength(1);
    expect(overtaken.started).toEqual([]);
  });

  it("throws when the start fails, giving the attempt back, so the next run claims it again", async () => {
    const { ports, stored, started } = fakeRuns();
    const start = ports.startExecution;
    ports.startExecution = async () => {
      throw new Error("ExecutionLimitExceeded");
    };

    await expect(claimAndStart(ports, record, "redrive")).rejects.toThrow("ExecutionLimitExceeded");
    expect(stored.attempts).toBe(1);

    ports.startExecution = start;
    const run = await claimAndStart(ports, record, "redrive");
    expect(run.attempt).toBe(2);
    expect(started).toEqual([`${INGEST_ID}-redrive-2`]);
  });

  it("keeps the attempt of a name Step Functions says is taken, so the next restart runs under a new one", async () => {
    // A STANDARD workflow refuses a name whose execution ended: the start of attempt 2 was answered
    // too late (its execution ran and died), and asking again under that name is refused.
    const { ports, stored, started } = fakeRuns({ status: "RECEIVED" });
    const start = ports.startExecution;
    const taken = new Set([`${INGEST_ID}-reconcile-2`]);
    ports.startExecution = async (name, input) => {
      if (taken.has(name)) {
        throw Object.assign(new Error(`Execution already exists: ${name}`), {
          name: "ExecutionAlreadyExists",
        });
      }
      return start(name, input);
    };

    await expect(claimAndStart(ports, record, "reconcile")).rejects.toThrow("Execution already exists");
    expect(stored.attempts).toBe(2);

    const run = await claimAndStart(ports, { ...record, attempts: stored.attempts }, "reconcile");
    expect(run?.executionName).toBe(`${INGEST_ID}-reconcile-3`);
    expect(started).toEqual([`${INGEST_ID}-reconcile-3`]);
  });
});

describe("an attempt given back in the store", () => {
  let stores: Awaited<ReturnType<typeof startTestStores>>;
  beforeAll(async () => {
    stores = await startTestStores("ops-runs-test");
  });
  afterAll(() => stores?.close());

  const key = { vendorId: record.vendorId, externalEventId: record.externalEventId };
  async function storedRecord(attempts: number) {
    await stores.entities.ingestRecords
      .put({
        ...record,
        attempts,
        eventType: "inventory_update",
        occurredAt: "2026-01-30T11:59:00Z",
        receivedAt: "2026-01-30T11:59:01Z",
        payloadSha256: "0".repeat(64),
        status: "RECEIVED",
      })
      .go();
  }
  const attemptsNow = async () => (await stores.entities.ingestRecords.get(key).go()).data?.attempts;

  it("goes back to the count before the claim, and only while no later run claimed", async () => {
    const ports = storeRunPorts({
      entities: stores.entities,
      sfn: {
        send: async () => {
          throw new Error("ThrottlingException");
        },
      },
      stateMachineArn: "arn:aws:states:us-east-1:000000000000:stateMachine:dvss-test-Normalize",
      now: () => NOW,
    });
    await storedRecord(1);

    await expect(claimAndStart(ports, record, "reconcile")).rejects.toThrow("ThrottlingException");
    expect(await attemptsNow()).toBe(1);

    // A later run claimed attempt 3 meanwhile: giving back attempt 2 leaves it alone.
    await storedRecord(3);
    await ports.records.release(key, 2);
    expect(await attemptsNow()).toBe(3);
  });
});
