import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDriftRecorder,
  DRIFT_WRITE_INTERVAL_MS,
  driftWriteIntervalMs,
  type FindingWrite,
  findingIdOf,
  MAX_FINDINGS_PER_VERSION,
  OVERFLOW_PATH,
  type WriteOutcome,
  writeFinding,
} from "../src/drift/record.ts";
import type { Entities } from "../src/entities/index.ts";
import type { OpsContext } from "../src/ops/context.ts";
import { ackDrift, countNewDriftFindings, listDrift } from "../src/ops/drift.ts";
import { startTestStores } from "./stores.ts";

let stores: Awaited<ReturnType<typeof startTestStores>>;
let context: OpsContext;
beforeAll(async () => {
  stores = await startTestStores("drift-store");
  context = { entities: stores.entities } as OpsContext;
});
afterAll(async () => {
  await stores?.close();
});

const write = (overrides: Partial<FindingWrite> = {}): FindingWrite => ({
  vendorId: "vendorZ",
  eventType: "order_state",
  version: "1",
  kind: "undeclared_field",
  path: "channel",
  expected: "not in the schema, the examples or the mapping",
  seen: 'string "web"',
  severity: "non_breaking",
  ingestId: "01INGEST000000000000000001",
  count: 1,
  at: "2026-11-30T08:00:00.000Z",
  ...overrides,
});

const entities = () => stores.entities as Pick<Entities, "driftFindings" | "driftBudgets">;

describe("writeFinding: one item per (vendor, eventType, version, kind, path)", () => {
  it("creates a finding, then adds to it; breaking sticks and takes the breaking event as its example", async () => {
    const first = await writeFinding(entities(), write({ vendorId: "vendorW" }));
    const again = await writeFinding(
      entities(),
      write({ vendorId: "vendorW", count: 4, at: "2026-11-30T08:05:00.000Z" }),
    );
    const broke = await writeFinding(
      entities(),
      write({
        vendorId: "vendorW",
        severity: "breaking",
        ingestId: "01BREAKING",
        at: "2026-11-30T08:06:00.000Z",
      }),
    );
    const later = await writeFinding(
      entities(),
      write({ vendorId: "vendorW", at: "2026-11-30T08:07:00.000Z" }),
    );

    const { findings } = await listDrift(context, { vendorId: "vendorW" });
    expect([first, again, broke, later]).toEqual(["created", "updated", "escalated", "updated"]);
    expect(findings).toEqual([
      expect.objectContaining({
        findingId: findingIdOf(write({ vendorId: "vendorW" })),
        severity: "breaking",
        count: 7,
        firstSeen: "2026-11-30T08:00:00.000Z",
        lastSeen: "2026-11-30T08:07:00.000Z",
        exampleIngestId: "01BREAKING",
        acked: false,
      }),
    ]);
  });

  it(`holds at most ${MAX_FINDINGS_PER_VERSION} findings per version: past it, the store says so`, async () => {
    const outcomes: WriteOutcome[] = [];
    for (let i = 0; i <= MAX_FINDINGS_PER_VERSION; i++) {
      outcomes.push(await writeFinding(entities(), write({ vendorId: "vendorJunk", path: `junk${i}` })));
    }
    expect(outcomes.filter((outcome) => outcome === "created")).toHaveLength(MAX_FINDINGS_PER_VERSION);
    expect(outcomes.at(-1)).toBe("budget_spent");
    // The `*` finding needs no place in the budget.
    expect(await writeFinding(entities(), write({ vendorId: "vendorJunk", path: OVERFLOW_PATH }))).toBe(
      "created",
    );
  });
});

describe("the recorder: at most one write per finding per interval per process", () => {
  function fakeStore() {
    const writes: FindingWrite[] = [];
    const alerts: string[] = [];
    let time = 0;
    const recorder = createDriftRecorder({
      now: () => time,
      intervalMs: 60_000,
      async write(finding) {
        writes.push(finding);
        if (finding.path.startsWith("junk")) return "budget_spent";
        return writes.filter((w) => w.path === finding.path).length === 1 ? "created" : "updated";
      },
      onAlert: (finding, outcome) => alerts.push(`${outcome} ${finding.severity} ${finding.path}`),
    });
    return { recorder, writes, alerts, advance: (ms: number) => (time += ms) };
  }

  it("writes the first sighting, holds the next ones back and adds them to the next write", async () => {
    const { recorder, writes, alerts, advance } = fakeStore();
    for (let i = 0; i < 20; i++) await recorder.observe(write());
    advance(60_000);
    await recorder.observe(write());

    expect(writes.map((w) => w.count)).toEqual([1, 20]);
    expect(alerts).toEqual(["created non_breaking channel"]);
  });

  it("waits DRIFT_WRITE_INTERVAL_MS between writes unless DVSS_DRIFT_WRITE_INTERVAL_MS says otherwise", () => {
    expect(driftWriteIntervalMs({})).toBe(DRIFT_WRITE_INTERVAL_MS);
    expect(driftWriteIntervalMs({ DVSS_DRIFT_WRITE_INTERVAL_MS: "0" })).toBe(0);
    expect(driftWriteIntervalMs({ DVSS_DRIFT_WRITE_INTERVAL_MS: "-5" })).toBe(DRIFT_WRITE_INTERVAL_MS);
    expect(driftWriteIntervalMs({ DVSS_DRIFT_WRITE_INTERVAL_MS: "soon" })).toBe(DRIFT_WRITE_INTERVAL_MS);
  });

  it("writes at once when a finding turns breaking", async () => {
    const { recorder, writes } = fakeStore();
    await recorder.observe(write());
    await recorder.observe(write({ severity: "breaking" }));
    await recorder.observe(write({ severity: "breaking" }));
    expect(writes.map((w) => [w.severity, w.count])).toEqual([
      ["non_breaking", 1],
      ["breaking", 1],
    ]);
  });

  it("folds new findings of a version whose budget is spent into its `*` finding", async () => {
    const { recorder, writes } = fakeStore();
    for (let i = 0; i < 50; i++) await recorder.observe(write({ path: `junk${i}` }));
    expect(writes.map((w) => w.path)).toEqual(["junk0", OVERFLOW_PATH]);
    expect(writes[1]?.seen).toBe('junk0: string "web"');
  });
});

describe("listing, acknowledging and counting findings", () => {
  beforeAll(async () => {
    await writeFinding(entities(), write({ vendorId: "vendorL", path: "a", at: "2026-11-29T10:00:00.000Z" }));
    await writeFinding(
      entities(),
      write({ vendorId: "vendorL", path: "b", severity: "breaking", at: "2026-11-30T10:00:00.000Z" }),
    );
  });

  it("lists breaking first, filters by time, hides what was acknowledged until it turns breaking", async () => {
    const listed = await listDrift(context, { vendorId: "vendorL" });
    const since = await listDrift(context, { vendorId: "vendorL", since: new Date("2026-11-30T00:00:00Z") });
    const a = listed.findings[1]?.findingId as string;
    await ackDrift(context, a);
    const afterAck = await listDrift(context, { vendorId: "vendorL" });
    const withAll = await listDrift(context, { vendorId: "vendorL", all: true });
    await writeFinding(entities(), write({ vendorId: "vendorL", path: "a", severity: "breaking" }));
    const afterBreaking = await listDrift(context, { vendorId: "vendorL" });

    expect(listed.findings.map((f) => [f.path, f.severity])).toEqual([
      ["b", "breaking"],
      ["a", "non_breaking"],
    ]);
    expect(since.findings.map((f) => f.path)).toEqual(["b"]);
    expect(afterAck).toMatchObject({ total: 1, hiddenAcked: 1 });
    expect(withAll.findings.map((f) => [f.path, f.acked])).toEqual([
      ["b", false],
      ["a", true],
    ]);
    expect(afterBreaking.findings.map((f) => f.path).sort()).toEqual(["a", "b"]);
  });

  it("lists every vendor's findings without --vendor", async () => {
    const vendors = new Set((await listDrift(context, { all: true })).findings.map((f) => f.vendorId));
    expect([...vendors].sort()).toEqual(expect.arrayContaining(["vendorJunk", "vendorL", "vendorW"]));
  });

  it("refuses an id that is not one, and names one it cannot find", async () => {
    await expect(ackDrift(context, "nonsense")).rejects.toMatchObject({ code: "USAGE" });
    await expect(ackDrift(context, "vendorL:000000000000")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("counts a vendor's new findings in a window, by severity, for the scorecard", async () => {
    const day = await countNewDriftFindings(
      context,
      "vendorL",
      new Date("2026-11-30T00:00:00Z"),
      new Date("2026-12-01T00:00:00Z"),
    );
    expect(day).toEqual({ breaking: 1, nonBreaking: 0 });
  });
});
