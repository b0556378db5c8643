import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Entity } from "electrodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DURATION_BUCKETS, SCORECARD_PARTS } from "../src/entities/scorecard.ts";
import type { OpsContext } from "../src/ops/context.ts";
import { vendorScorecard } from "../src/ops/scorecard.ts";
import {
  addToScorecard,
  durationBucket,
  outcomeIncrement,
  percentileSeconds,
  REFUSAL_WRITE_INTERVAL_MS,
  RefusalTally,
  refusalWriteIntervalMs,
  type ScorecardDay,
  score,
  scorecardDayOf,
  scorecardPart,
  scoreInputsOf,
  scorePenalties,
} from "../src/scorecard.ts";
import { applyStateChange } from "../src/state/apply.ts";
import { at, orderCreated, orderStatusChanged } from "./state-events.ts";
import { startTestStores } from "./stores.ts";

const SECOND = 1000;

describe("duration histograms", () => {
  it("put a duration in the bucket whose upper bound is the next power of two seconds", () => {
    expect(durationBucket(-5 * SECOND)).toBe(0);
    expect(durationBucket(0)).toBe(0);
    expect(durationBucket(1 * SECOND)).toBe(0);
    expect(durationBucket(1 * SECOND + 1)).toBe(1);
    expect(durationBucket(2 * SECOND)).toBe(1);
    expect(durationBucket(100 * SECOND)).toBe(7); // (64 s, 128 s]
    expect(durationBucket(3 * 3600 * SECOND)).toBe(14); // (8192 s, 16384 s]
    expect(durationBucket(2 ** 20 * SECOND)).toBe(20);
    expect(durationBucket(2 ** 20 * SECOND + 1)).toBe(DURATION_BUCKETS - 1);
    expect(durationBucket(365 * 24 * 3600 * SECOND)).toBe(DURATION_BUCKETS - 1);
  });

  it("read a percentile as the upper bound of the bucket its rank falls in", () => {
    const histogram = Array<number>(DURATION_BUCKETS).fill(0);
    histogram[7] = 180;
    histogram[8] = 20;

    expect(percentileSeconds(histogram, 50)).toBe(128);
    expect(percentileSeconds(histogram, 90)).toBe(128);
    expect(percentileSeconds(histogram, 95)).toBe(256);
    expect(percentileSeconds(Array<number>(DURATION_BUCKETS).fill(0), 95)).toBeUndefined();
    const overflow = Array<number>(DURATION_BUCKETS).fill(0);
    overflow[DURATION_BUCKETS - 1] = 1;
    expect(percentileSeconds(overflow, 50)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("what an outcome adds", () => {
  const received = { receivedAt: "2026-01-30T20:01:40.000Z", occurredAt: "2026-01-30T21:00:00+01:00" };
  const now = new Date("2026-01-30T20:01:41.000Z");

  it("counts a first NORMALIZED as accepted, its lateness, its divergences and whether it was out of order", () => {
    const increment = outcomeIncrement({
      ...received,
      now,
      previousStatus: "RECEIVED",
      status: "NORMALIZED",
      applied: { divergences: ["STALE_EVENT", "STALE_EVENT", "CONFLICTING_SOURCE"], outOfOrder: true },
    });

    expect(increment).toEqual({
      accepted: 1,
      lateness_7: 1, // 100 s
      divergences_STALE_EVENT: 2,
      divergences_CONFLICTING_SOURCE: 1,
      outOfOrder: 1,
    });
  });

  it("counts a first FAILED_NORMALIZE as accepted, its lateness and its reason (bounded)", () => {
    const failed = { ...received, now, previousStatus: "RECEIVED", status: "FAILED_NORMALIZE" } as const;

    expect(outcomeIncrement({ ...failed, quarantineReason: "MAPPING_FAILED" })).toEqual({
      accepted: 1,
      lateness_7: 1,
      quarantined_MAPPING_FAILED: 1,
    });
    expect(outcomeIncrement({ ...failed, quarantineReason: "SOMETHING_NEW" })).toEqual({
      accepted: 1,
      lateness_7: 1,
      quarantined_OTHER: 1,
    });
  });

  it("counts a redrive that normalizes with its time since the quarantine, and nothing else twice", () => {
    const redriven = outcomeIncrement({
      ...received,
      now: new Date("2026-01-30T21:00:00.000Z"),
      previousStatus: "FAILED_NORMALIZE",
      status: "NORMALIZED",
      quarantinedAt: "2026-01-30T20:30:00.000Z",
      applied: { divergences: [], outOfOrder: false },
    });

    expect(redriven).toEqual({ normalizedAfterQuarantine: 1, redrive_11: 1 }); // 1800 s: (1024 s, 2048 s]
    // A rerun or replay of a NORMALIZED event, a failed redrive, an entry resolved by someone else.
    const again = { ...received, now, applied: { divergences: [], outOfOrder: false } };
    expect(
      outcomeIncrement({ ...again, previousStatus: "NORMALIZED", status: "NORMALIZED" }),
    ).toBeUndefined();
    expect(
      outcomeIncrement({ ...again, previousStatus: "FAILED_NORMALIZE", status: "FAILED_NORMALIZE" }),
    ).toBeUndefined();
    expect(
      outcomeIncrement({ ...again, previousStatus: "FAILED_NORMALIZE", status: "NORMALIZED" }),
    ).toBeUndefined();
  });
});

/** A day with every counter from the lists given, zero elsewhere. */
function dayWith(counts: Partial<ScorecardDay>): ScorecardDay {
  return {
    ...scorecardDayOf("vendorA", "2026-01-30", {}),
    ...counts,
  };
}

describe("the score (docs/spec/scorecard.md, worked examples)", () => {
  it("is 100 for a clean day and for a day late by at most a minute", () => {
    const lateness = Array<number>(DURATION_BUCKETS).fill(0);
    lateness[5] = 50; // ≤ 32 s
    lateness[6] = 50; // ≤ 64 s: p95 is 64 s, just past the free minute
    const clean = dayWith({ accepted: 100, lateness: Array<number>(DURATION_BUCKETS).fill(0) });

    expect(score(scoreInputsOf(clean))).toBe(100);
    expect(score(scoreInputsOf(dayWith({ accepted: 100, lateness })))).toBe(100); // 15·ln(64/60)/ln(60) = 0.24
  });

  it("takes each penalty in proportion up to its full level: the worked example scores 61", () => {
    const lateness = Array<number>(DURATION_BUCKETS).fill(0);
    lateness[7] = 180; // ≤ 128 s
    lateness[8] = 20; // ≤ 256 s: p95 = 256 s
    const day = dayWith({
      accepted: 200,
      duplicates: 10,
      rejected: { INVALID_ENVELOPE: 6, RATE_LIMITED: 4 },
      quarantined: { MAPPING_FAILED: 4 },
      divergences: { STALE_EVENT: 6 },
      outOfOrder: 20,
      lateness,
    });

    const inputs = scoreInputsOf(day);

    expect(inputs).toEqual({
      rejectionRate: 10 / 220,
      quarantineRate: 0.02,
      divergenceRate: 0.03,
      outOfOrderShare: 0.1,
      p95LatenessSeconds: 256,
    });
    // 25·0.4545 + 30·0.4 + 20·0.3 + 10·0.4 + 15·ln(256/60)/ln(3600/60) = 11.36 + 12 + 6 + 4 + 5.32 = 38.68
    expect(score(inputs)).toBe(61);
  });

  it("splits a score into the points each penalty takes, as the score's formula does", () => {
    // docs/spec/scorecard.md's worked example: 61.
    const inputs = {
      rejectionRate: 10 / 220,
      quarantineRate: 4 / 200,
      divergenceRate: 6 / 200,
      outOfOrderShare: 20 / 200,
      p95LatenessSeconds: 256,
    };

    const parts = scorePenalties(inputs);

    expect(parts.quarantine).toBeCloseTo(12);
    expect(parts.divergence).toBeCloseTo(6);
    expect(parts.outOfOrder).toBeCloseTo(4);
    expect(parts.rejection).toBeCloseTo(11.36, 2);
    expect(parts.lateness).toBeCloseTo(5.32, 2);
    const taken = Object.values(parts).reduce((sum, n) => sum + n, 0);
    expect(Math.round(100 - taken)).toBe(score(inputs));
    expect(score(inputs)).toBe(61);
  });

  it("is 0 when every penalty is past its full level", () => {
    const lateness = Array<number>(DURATION_BUCKETS).fill(0);
    lateness[DURATION_BUCKETS - 1] = 10;
    const day = dayWith({
      accepted: 10,
      rejected: { INVALID_JSON: 10 },
      quarantined: { SCHEMA_VALIDATION_FAILED: 1 },
      divergences: { NEGATIVE_QUANTITY_RESULT: 3 },
      outOfOrder: 5,
      lateness,
    });

    expect(score(scoreInputsOf(day))).toBe(0);
  });
});

describe("refused posts held in memory", () => {
  it("are written once per window however many arrive, summed per vendor and day", () => {
    const tally = new RefusalTally();
    const window = 10 * SECOND;
    for (let i = 0; i < 500; i++) {
      tally.add("vendorS", "2026-01-30", { rejected_RATE_LIMITED: 1 }, 1_000 + i);
    }
    tally.add("vendorS", "2026-01-30", { rejected_INVALID_JSON: 1 }, 2_000);
    tally.add("vendorT", "2026-01-30", { rejected_VENDOR_PAUSED: 1 }, 3_000);

    expect(tally.takeDue(1_000 + window - 1, window)).toEqual([]);
    expect(tally.takeDue(1_000 + window, window)).toEqual([
      {
        vendorId: "vendorS",
        day: "2026-01-30",
        increment: { rejected_RATE_LIMITED: 500, rejected_INVALID_JSON: 1 },
      },
      { vendorId: "vendorT", day: "2026-01-30", increment: { rejected_VENDOR_PAUSED: 1 } },
    ]);
    // Taken counts are gone: the next window starts with the next refusal.
    expect(tally.takeDue(1_000 + 5 * window, window)).toEqual([]);
    tally.add("vendorS", "2026-01-31", { rejected_RATE_LIMITED: 1 }, 100_000);
    expect(tally.takeDue(100_000 + window, window)).toEqual([
      { vendorId: "vendorS", day: "2026-01-31", increment: { rejected_RATE_LIMITED: 1 } },
    ]);
  });

  it("are written at once with a window of 0", () => {
    const tally = new RefusalTally();
    tally.add("vendorS", "2026-01-30", { rejected_RATE_LIMITED: 1 }, 5_000);
    expect(tally.takeDue(5_000, 0)).toHaveLength(1);
  });

  it("take their window from DVSS_REFUSAL_WRITE_INTERVAL_MS, ignoring what is not a duration", () => {
    expect(refusalWriteIntervalMs({})).toBe(REFUSAL_WRITE_INTERVAL_MS);
    expect(refusalWriteIntervalMs({ DVSS_REFUSAL_WRITE_INTERVAL_MS: "0" })).toBe(0);
    expect(refusalWriteIntervalMs({ DVSS_REFUSAL_WRITE_INTERVAL_MS: " 2500 " })).toBe(2500);
    expect(refusalWriteIntervalMs({ DVSS_REFUSAL_WRITE_INTERVAL_MS: "soon" })).toBe(
      REFUSAL_WRITE_INTERVAL_MS,
    );
    expect(refusalWriteIntervalMs({ DVSS_REFUSAL_WRITE_INTERVAL_MS: "-1" })).toBe(REFUSAL_WRITE_INTERVAL_MS);
  });
});

describe("the counters in the store", () => {
  let stores: Awaited<ReturnType<typeof startTestStores>>;
  beforeAll(async () => {
    stores = await startTestStores("scorecard-test");
  });
  afterAll(async () => {
    await stores?.close();
  });
  const quiet = { warn: () => {} };

  it("are created and added to by ADD, and read back as a day's figures", async () => {
    await addToScorecard(stores.entities, "vendorS", "2026-01-30", { accepted: 1, lateness_3: 1 }, quiet);
    await addToScorecard(stores.entities, "vendorS", "2026-01-30", { accepted: 1, lateness_3: 1 }, quiet);
    await addToScorecard(stores.entities, "vendorS", "2026-01-30", { rejected_RATE_LIMITED: 1 }, quiet);
    await addToScorecard(stores.entities, "vendorS", "2026-01-29", { duplicates: 1 }, quiet);
    const context = {
      entities: stores.entities,
      now: () => Date.parse("2026-01-30T23:59:59Z"),
    } as unknown as OpsContext;

    const scorecard = await vendorScorecard(context, "vendorS", 3);

    expect(scorecard.days.map((day) => day.day)).toEqual(["2026-01-28", "2026-01-29", "2026-01-30"]);
    const [empty, yesterday, today] = scorecard.days;
    expect(empty).toMatchObject({ accepted: 0, duplicates: 0, score: null, latenessP95Seconds: null });
    expect(yesterday).toMatchObject({ accepted: 0, duplicates: 1, score: 100 });
    expect(today).toMatchObject({
      accepted: 2,
      rejected: { RATE_LIMITED: 1 },
      rejectedTotal: 1,
      latenessP50Seconds: 8,
      latenessP95Seconds: 8,
      // One post in three refused: past the full level of 10 %.
      score: 75,
    });
    await expect(vendorScorecard(context, "vendorS", 0)).rejects.toThrow("days must be a whole number");
  });

  it("spread a vendor-day over its parts, the same event always to the same part, and read back their sum", async () => {
    const ingestIds = Array.from(
      { length: 64 },
      (_, n) => `01KB0000000000000000000${n.toString(32).padStart(3, "0")}`,
    );
    const parts = new Set(ingestIds.map((ingestId) => scorecardPart(ingestId)));
    expect(parts.size).toBe(SCORECARD_PARTS);
    expect(ingestIds.map((ingestId) => scorecardPart(ingestId))).toEqual(
      ingestIds.map((ingestId) => scorecardPart(ingestId)),
    );
    for (const ingestId of ingestIds) {
      await addToScorecard(
        stores.entities,
        "vendorP",
        "2026-01-30",
        { accepted: 1, lateness_0: 1 },
        quiet,
        ingestId,
      );
    }
    for (let n = 0; n < 16; n += 1) {
      await addToScorecard(stores.entities, "vendorP", "2026-01-30", { rejected_RATE_LIMITED: 1 }, quiet);
    }
    // An item written before parts existed: the day's key without a part, read as part 0.
    const client = DynamoDBDocumentClient.from(stores.dynamodb);
    const before = new Entity(
      {
        model: { entity: "scorecard", version: "1", service: "dvss" },
        attributes: {
          vendorId: { type: "string", required: true },
          day: { type: "string", required: true },
          accepted: { type: "number" },
        },
        indexes: {
          byVendor: {
            pk: { field: "pk", composite: ["vendorId"], casing: "none" },
            sk: { field: "sk", composite: ["day"], casing: "none" },
          },
        },
      },
      { client, table: stores.tables.Scorecards },
    );
    await before.update({ vendorId: "vendorP", day: "2026-01-30" }).add({ accepted: 6 }).go();
    await before.update({ vendorId: "vendorP", day: "2026-01-29" }).add({ accepted: 3 }).go();
    const context = {
      entities: stores.entities,
      now: () => Date.parse("2026-01-30T12:00:00Z"),
    } as unknown as OpsContext;

    const { data: items } = await stores.entities.scorecards.query.byVendor({ vendorId: "vendorP" }).go();
    const scorecard = await vendorScorecard(context, "vendorP", 2);

    expect(items.length).toBeGreaterThan(SCORECARD_PARTS);
    expect(scorecard.days).toMatchObject([
      { day: "2026-01-29", accepted: 3 },
      { day: "2026-01-30", accepted: 70, rejected: { RATE_LIMITED: 16 }, rejectedTotal: 16 },
    ]);
    expect(scorecard.days[1]?.lateness[0]).toBe(64);
  });

  it("lose a count rather than fail: a write that throws is logged and swallowed", async () => {
    const warnings: unknown[] = [];
    const broken = {
      scorecards: {
        update: () => ({
          add: () => ({
            go: () => Promise.reject(new Error("ProvisionedThroughputExceededException")),
          }),
        }),
      },
    } as unknown as Parameters<typeof addToScorecard>[0];

    await addToScorecard(
      broken,
      "vendorS",
      "2026-01-30",
      { duplicates: 1 },
      { warn: (...args) => warnings.push(args) },
    );

    expect(warnings).toEqual([
      [
        "scorecard count lost",
        expect.objectContaining({ vendorId: "vendorS", day: "2026-01-30", counters: ["duplicates"] }),
      ],
    ]);
  });

  it("know an order event applied before the order's latest event as out of order", async () => {
    const options = { vendorPriority: 100, mappingVersion: "1" };
    const status = orderStatusChanged("SC-O1", "PICKED", { occurredAt: at(10) });
    const created = orderCreated("SC-O1", [{ sku: "A", quantity: 1 }], { occurredAt: at(0) });
    const shipped = orderStatusChanged("SC-O1", "SHIPPED", { occurredAt: at(20) });

    const results = [];
    for (const event of [status, created, shipped]) {
      results.push(await applyStateChange(stores.entities, event, options));
    }

    expect(results.map((result) => [result.outcome, result.outOfOrder])).toEqual([
      ["APPLIED", false],
      ["APPLIED", true],
      ["APPLIED", false],
    ]);
  });
});
