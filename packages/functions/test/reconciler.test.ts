import type { IngestRecordItem } from "@dvss/core/entities/index";
import type { RunPorts } from "@dvss/core/ops/runs";
import { DEFAULT_RECONCILE_AFTER_SECONDS, type NormalizeInput } from "@dvss/core/workflow";
import { describe, expect, it } from "vitest";
import {
  type ReconcilerPorts,
  type ReconcileSettings,
  reconcile,
  settingsFromEnvironment,
} from "../src/reconciler.ts";

const NOW = Date.parse("2026-01-30T12:00:00Z");
const MINUTE = 60_000;

const SETTINGS: ReconcileSettings = {
  stuckAfterMs: 6 * MINUTE,
  maxAttempts: 3,
  maxLost: 5,
  batchPerShard: 25,
  concurrency: 4,
  skipRunning: false,
};

let sequence = 0;
/** A record RECEIVED ten minutes ago, whose first execution is long gone. */
function stuckRecord(overrides: Partial<IngestRecordItem> = {}): IngestRecordItem {
  const ingestId = `01KSTUCK${String(++sequence).padStart(18, "0")}`;
  return {
    vendorId: "vendorA",
    externalEventId: `inv-${sequence}`,
    ingestId,
    eventType: "inventory_update",
    occurredAt: "2026-01-30T11:50:00Z",
    receivedAt: new Date(NOW - 10 * MINUTE).toISOString(),
    rawBucket: "dvss-test-raw",
    rawKey: `raw/vendorA/2026/01/30/${ingestId}.json`,
    payloadSha256: "0".repeat(64),
    status: "RECEIVED",
    attempts: 1,
    ...overrides,
  };
}

/**
 * The reconciler's ports over memory: records by ingestId (what the claims see and change), the
 * executions started, the quarantines and warnings. `failStart` makes StartExecution throw for
 * those ingestIds; `running` is what ListExecutions(RUNNING) answers, or its error.
 */
function fakePorts(
  records: IngestRecordItem[],
  options: { running?: Set<string> | Error; failStart?: Set<string> } = {},
) {
  const stored = new Map(records.map((record) => [record.ingestId, { ...record }]));
  const byKey = (key: { vendorId: string; externalEventId: string }) =>
    [...stored.values()].find(
      (record) => record.vendorId === key.vendorId && record.externalEventId === key.externalEventId,
    );
  const started: { name: string; input: NormalizeInput }[] = [];
  const quarantined: { ingestId: string; message: string }[] = [];
  const warnings: { message: string; details: Record<string, unknown> }[] = [];
  const asked: { cutoff: string; perShard: number }[] = [];
  const runs: RunPorts = {
    records: {
      async claim(key, attempt, at, whileReceived) {
        const record = byKey(key);
        if (!record || (record.attempts ?? 0) !== attempt - 1) return false;
        if (whileReceived && record.status !== "RECEIVED") return false;
        record.attempts = attempt;
        record.updatedAt = at;
        return true;
      },
      async release(key, attempt) {
        const record = byKey(key);
        if (record && record.attempts === attempt) record.attempts = attempt - 1;
      },
      async attempts(key) {
        return byKey(key)?.attempts ?? 0;
      },
    },
    async startExecution(name, input) {
      if (options.failStart?.has(input.ingestId)) throw new Error("Rate exceeded");
      started.push({ name, input });
      return `arn:aws:states:us-east-1:000000000000:express:dvss-test-Normalize:${name}:1`;
    },
    now: () => NOW,
  };
  const ports: ReconcilerPorts = {
    runs,
    async pendingBefore(cutoff, perShard) {
      asked.push({ cutoff, perShard });
      return records;
    },
    async runningIngestIds() {
      if (options.running instanceof Error) throw options.running;
      return options.running ?? new Set();
    },
    async quarantineStuck(record, message) {
      quarantined.push({ ingestId: record.ingestId, message });
    },
    warn: (message, details) => void warnings.push({ message, details }),
  };
  return { ports, stored, started, quarantined, warnings, asked };
}

describe("the reconciler", () => {
  it("restarts a stuck RECEIVED record as its next attempt, from the same references", async () => {
    const record = stuckRecord({ attempts: 1 });
    const { ports, stored, started } = fakePorts([record]);

    const report = await reconcile(ports, SETTINGS);

    expect(started).toEqual([
      {
        name: `${record.ingestId}-reconcile-2`,
        input: {
          ingestId: record.ingestId,
          vendorId: "vendorA",
          externalEventId: record.externalEventId,
          rawRef: { bucket: "dvss-test-raw", key: record.rawKey },
        },
      },
    ]);
    expect(stored.get(record.ingestId)).toMatchObject({
      attempts: 2,
      updatedAt: new Date(NOW).toISOString(),
    });
    expect(report).toEqual({ restarted: [record.ingestId], quarantined: [], backlog: 1, running: 0 });
  });

  it("asks for records older than the threshold, as many per shard as the batch", async () => {
    const { ports, asked } = fakePorts([]);

    await reconcile(ports, { ...SETTINGS, batchPerShard: 7 });

    expect(asked).toEqual([{ cutoff: new Date(NOW - 6 * MINUTE).toISOString(), perShard: 7 }]);
  });

  it("takes the moment executions were lost as the cutoff when it is later than the threshold", async () => {
    const lostAt = new Date(NOW - MINUTE).toISOString();
    const { ports, asked } = fakePorts([]);

    await reconcile(ports, { ...SETTINGS, executionsLostBefore: lostAt });
    await reconcile(ports, { ...SETTINGS, executionsLostBefore: new Date(NOW + MINUTE).toISOString() });

    expect(asked.map((ask) => ask.cutoff)).toEqual([lostAt, new Date(NOW - 6 * MINUTE).toISOString()]);
  });

  it("quarantines a record as STUCK once it has had the maximum executions, starting nothing", async () => {
    const record = stuckRecord({ attempts: 3 });
    const { ports, stored, started, quarantined } = fakePorts([record]);

    const report = await reconcile(ports, SETTINGS);

    expect(started).toEqual([]);
    expect(stored.get(record.ingestId)?.attempts).toBe(3);
    expect(quarantined).toEqual([
      {
        ingestId: record.ingestId,
        message: `Still RECEIVED after 3 executions; the last started before ${new Date(NOW - 6 * MINUTE).toISOString()}`,
      },
    ]);
    expect(report).toMatchObject({ restarted: [], quarantined: [record.ingestId], backlog: 1 });
  });

  it("does not count executions lost with a stopped runtime toward the maximum, up to maxLost", async () => {
    const spared = stuckRecord({ attempts: 4, lostExecutions: 2 });
    const tooManyLost = stuckRecord({ attempts: 9, lostExecutions: 9 });
    const { ports, started, quarantined } = fakePorts([spared, tooManyLost]);

    await reconcile(ports, SETTINGS);

    expect(started.map((run) => run.name)).toEqual([`${spared.ingestId}-reconcile-5`]);
    expect(quarantined.map((entry) => entry.ingestId)).toEqual([tooManyLost.ingestId]);
    expect(quarantined[0]?.message).toContain("(5 lost with a stopped runtime)");
  });

  it("skips a record whose attempt another run claimed first", async () => {
    const record = stuckRecord({ attempts: 1 });
    const { ports, stored, started } = fakePorts([record]);
    const current = stored.get(record.ingestId);
    if (current) current.attempts = 2; // an overlapping reconciler run, or a redrive, took attempt 2

    const report = await reconcile(ports, SETTINGS);

    expect(started).toEqual([]);
    expect(current?.attempts).toBe(2);
    expect(report).toMatchObject({ restarted: [], quarantined: [], backlog: 1 });
  });

  it("skips a record that finished since it was read", async () => {
    const record = stuckRecord({ attempts: 1 });
    const { ports, stored, started } = fakePorts([record]);
    const current = stored.get(record.ingestId);
    if (current) current.status = "NORMALIZED";

    const report = await reconcile(ports, SETTINGS);

    expect(started).toEqual([]);
    expect(current?.attempts).toBe(1);
    expect(report.restarted).toEqual([]);
  });

  it("with skipRunning, leaves alone the events whose execution still runs", async () => {
    const queued = stuckRecord();
    const lost = stuckRecord();
    const { ports, started } = fakePorts([queued, lost], { running: new Set([queued.ingestId]) });

    const report = await reconcile(ports, { ...SETTINGS, skipRunning: true });

    expect(started.map((run) => run.input.ingestId)).toEqual([lost.ingestId]);
    expect(report).toEqual({ restarted: [lost.ingestId], quarantined: [], backlog: 1, running: 1 });
  });

  it("without skipRunning, does not ask which executions run", async () => {
    const record = stuckRecord();
    const { ports, started } = fakePorts([record], { running: new Error("must not be asked") });

    await reconcile(ports, SETTINGS);

    expect(started).toHaveLength(1);
  });

  it("when running executions cannot be listed, warns and lets the threshold decide", async () => {
    const record = stuckRecord();
    const { ports, started, warnings } = fakePorts([record], { running: new Error("ThrottlingException") });

    const report = await reconcile(ports, { ...SETTINGS, skipRunning: true });

    expect(started).toHaveLength(1);
    expect(report.running).toBe(0);
    expect(warnings).toEqual([
      { message: "running executions not listed", details: { error: "Error: ThrottlingException" } },
    ]);
  });

  it("warns of a failed start and goes on with the others; the failed start gives its attempt back", async () => {
    const failing = stuckRecord({ attempts: 1 });
    const other = stuckRecord({ attempts: 1 });
    const { ports, stored, started, warnings } = fakePorts([failing, other], {
      failStart: new Set([failing.ingestId]),
    });

    const report = await reconcile(ports, SETTINGS);

    expect(started.map((run) => run.input.ingestId)).toEqual([other.ingestId]);
    expect(report.restarted).toEqual([other.ingestId]);
    expect(stored.get(failing.ingestId)?.attempts).toBe(1);
    expect(stored.get(failing.ingestId)?.updatedAt).toBe(new Date(NOW).toISOString());
    expect(warnings).toEqual([
      { message: "restart failed", details: { ingestId: failing.ingestId, error: "Error: Rate exceeded" } },
    ]);
  });

  it("never quarantines as STUCK an event whose restarts Step Functions keeps refusing (throttled), and restarts it once it accepts", async () => {
    const refused = stuckRecord({ attempts: 1 });
    const throttled = fakePorts([refused], { failStart: new Set([refused.ingestId]) });
    for (let pass = 0; pass < SETTINGS.maxAttempts + 2; pass++) {
      const report = await reconcile(throttled.ports, SETTINGS);
      expect(report.quarantined).toEqual([]);
    }
    expect(throttled.quarantined).toEqual([]);
    expect(throttled.stored.get(refused.ingestId)?.attempts).toBe(1);

    const accepting = fakePorts([{ ...refused, ...throttled.stored.get(refused.ingestId) }]);
    const report = await reconcile(accepting.ports, SETTINGS);

    expect(report.restarted).toEqual([refused.ingestId]);
    expect(accepting.started.map((run) => run.name)).toEqual([`${refused.ingestId}-reconcile-2`]);
  });

  it("restarts no more records at once than its concurrency", async () => {
    const records = Array.from({ length: 6 }, () => stuckRecord());
    const { ports } = fakePorts(records);
    let inFlight = 0;
    let most = 0;
    const start = ports.runs.startExecution;
    ports.runs.startExecution = async (name, input) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
      return start(name, input);
    };

    const report = await reconcile(ports, { ...SETTINGS, concurrency: 2 });

    expect(report.restarted).toHaveLength(6);
    expect(most).toBe(2);
  });
});

describe("the reconciler's settings", () => {
  it("has defaults for an Express workflow", () => {
    expect(settingsFromEnvironment({})).toEqual({
      stuckAfterMs: DEFAULT_RECONCILE_AFTER_SECONDS * 1000,
      maxAttempts: 3,
      maxLost: 5,
      batchPerShard: 25,
      concurrency: 8,
      executionsLostBefore: undefined,
      skipRunning: false,
    });
  });

  it("reads what the stack and the local runtime set", () => {
    expect(
      settingsFromEnvironment({
        DVSS_RECONCILE_AFTER_SECONDS: "30",
        DVSS_RECONCILE_MAX_ATTEMPTS: "4",
        DVSS_RECONCILE_MAX_LOST: "2",
        DVSS_RECONCILE_BATCH_PER_SHARD: "100",
        DVSS_RECONCILE_CONCURRENCY: "0",
        DVSS_EXECUTIONS_LOST_BEFORE: "2026-01-30T11:00:00.000Z",
        DVSS_RECONCILE_SKIP_RUNNING: "true",
      }),
    ).toEqual({
      stuckAfterMs: 30_000,
      maxAttempts: 4,
      maxLost: 2,
      batchPerShard: 100,
      concurrency: 1,
      executionsLostBefore: "2026-01-30T11:00:00.000Z",
      skipRunning: true,
    });
  });
});
