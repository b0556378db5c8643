import type { Entities, IngestStatus } from "./entities/index.ts";
import {
  COUNTER_NAMES,
  DURATION_BUCKETS,
  REJECTION_CODES,
  type RejectionCode,
  SCORECARD_PARTS,
} from "./entities/scorecard.ts";
import { REASONS, reasonDimension } from "./metrics.ts";
import { millisecondsSetting } from "./settings.ts";
import { DIVERGENCE_KINDS, type DivergenceKind } from "./state/types.ts";

/**
 * The vendor scorecard (docs/spec/scorecard.md): counters per vendor per UTC day, added to by the
 * pipeline where each outcome happens, and the figures and the score read from them. Every
 * counter name comes from a bounded set, so a day's item has a bounded size.
 */

export function durationBucket(ms: number): number {
  if (!(ms > 1000)) return 0;
  return Math.min(DURATION_BUCKETS - 1, Math.ceil(Math.log2(ms / 1000)));
}

/** The upper bound of a bucket in seconds; the last bucket has none (Infinity). */
export function bucketUpperSeconds(bucket: number): number {
  return bucket >= DURATION_BUCKETS - 1 ? Number.POSITIVE_INFINITY : 2 ** bucket;
}

/** The p-th percentile (0 < p ≤ 100) of a histogram in seconds, as its bucket's upper bound; undefined when empty. */
export function percentileSeconds(histogram: readonly number[], p: number): number | undefined {
  const total = histogram.reduce((sum, count) => sum + count, 0);
  if (total === 0) return undefined;
  const rank = Math.ceil((p / 100) * total);
  let seen = 0;
  for (const [bucket, count] of histogram.entries()) {
    seen += count;
    if (seen >= rank) return bucketUpperSeconds(bucket);
  }
  return bucketUpperSeconds(histogram.length - 1);
}

/** What one outcome adds: counter name → amount. */
export type ScorecardIncrement = Record<string, number>;

/** A post answered DUPLICATE. */
export const duplicateIncrement = (): ScorecardIncrement => ({ duplicates: 1 });

/** An authenticated vendor's post refused with `code`. */
export const rejectionIncrement = (code: RejectionCode): ScorecardIncrement => ({ [`rejected_${code}`]: 1 });

/** What UpdateStatus knows when it records an event's outcome. */
export interface RecordedOutcome {
  /** The record's status before this outcome was written. */
  previousStatus: IngestStatus;
  status: "NORMALIZED" | "FAILED_NORMALIZE";
  receivedAt: string;
  occurredAt: string;
  now: Date;
  /** FAILED_NORMALIZE: the quarantine reason. */
  quarantineReason?: string;
  /** NORMALIZED after FAILED_NORMALIZE: when the entry this outcome resolved was quarantined. */
  quarantinedAt?: string;
  /** NORMALIZED: what ApplyState found. */
  applied?: { divergences: readonly DivergenceKind[]; outOfOrder: boolean };
}

/**
 * What an outcome adds, or undefined when it adds nothing. An event is counted once, at its first
 * outcome (accepted, its lateness, and quarantined or what applying it found), and once more if a
 * redrive then normalizes it (the time it spent in quarantine, and what applying it found). A
 * rerun, a replay or a failed redrive adds nothing: the event was counted already.
 */
export function outcomeIncrement(outcome: RecordedOutcome): ScorecardIncrement | undefined {
  if (outcome.previousStatus === "RECEIVED") {
    const latenessMs = Date.parse(outcome.receivedAt) - Date.parse(outcome.occurredAt);
    const increment: ScorecardIncrement = { accepted: 1, [`lateness_${durationBucket(latenessMs)}`]: 1 };
    if (outcome.status === "FAILED_NORMALIZE") {
      increment[`quarantined_${reasonDimension(outcome.quarantineReason ?? "OTHER")}`] = 1;
    }
    return { ...increment, ...appliedIncrement(outcome.applied) };
  }
  if (
    outcome.previousStatus === "FAILED_NORMALIZE" &&
    outcome.status === "NORMALIZED" &&
    outcome.quarantinedAt !== undefined
  ) {
    const quarantinedMs = outcome.now.getTime() - Date.parse(outcome.quarantinedAt);
    return {
      normalizedAfterQuarantine: 1,
      [`redrive_${durationBucket(quarantinedMs)}`]: 1,
      ...appliedIncrement(outcome.applied),
    };
  }
  return undefined;
}

function appliedIncrement(applied: RecordedOutcome["applied"]): ScorecardIncrement {
  const increment: ScorecardIncrement = {};
  for (const kind of applied?.divergences ?? []) {
    increment[`divergences_${kind}`] = (increment[`divergences_${kind}`] ?? 0) + 1;
  }
  if (applied?.outOfOrder) increment.outOfOrder = 1;
  return increment;
}

/** The UTC day (YYYY-MM-DD) an instant falls on: the day an event's counters belong to. */
export const utcDay = (at: Date | string): string => new Date(at).toISOString().slice(0, 10);

/**
 * Which of a vendor-day's SCORECARD_PARTS items a write adds to: from `partKey` (an event's
 * ingestId, whose last characters are random), so a retried task adds to the part its first try
 * did; at random without one (a refusal tally, a duplicate post: each write a count of its own).
 */
export function scorecardPart(partKey?: string): number {
  if (partKey === undefined) return Math.floor(Math.random() * SCORECARD_PARTS);
  let hash = 0;
  for (const char of partKey.slice(-4)) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return hash % SCORECARD_PARTS;
}

/**
 * Adds to the vendor's counters of one day: one UpdateItem (ADD creates the item and each counter)
 * on one of the day's parts ({@link scorecardPart} of `partKey`).
 * A failure is logged and swallowed: the event's outcome is already recorded, and failing the
 * request or task now would make the vendor or the workflow retry an event that succeeded, for a
 * figure that is only read as a rate. A lost count understates one day's figures by one.
 */
export async function addToScorecard(
  entities: Pick<Entities, "scorecards">,
  vendorId: string,
  day: string,
  increment: ScorecardIncrement,
  log: { warn(message: string, extra?: Record<string, unknown>): void },
  partKey?: string,
): Promise<void> {
  const part = scorecardPart(partKey);
  try {
    await entities.scorecards.update({ vendorId, day, part }).add(increment).go({ response: "none" });
  } catch (error) {
    log.warn("scorecard count lost", {
      vendorId,
      day,
      part,
      counters: Object.keys(increment),
      error: String(error),
    });
  }
}

/** How long refusals are held before one write: DVSS_REFUSAL_WRITE_INTERVAL_MS overrides (0: each refusal writes). */
export const REFUSAL_WRITE_INTERVAL_MS = 10_000;
export function refusalWriteIntervalMs(env: Record<string, string | undefined> = process.env): number {
  return millisecondsSetting(env, "DVSS_REFUSAL_WRITE_INTERVAL_MS", REFUSAL_WRITE_INTERVAL_MS);
}

/** Counts waiting in a {@link RefusalTally} for one vendor's day. */
export interface PendingCounts {
  vendorId: string;
  day: string;
  increment: ScorecardIncrement;
}

/**
 * Refused posts counted in memory and written once per window: a vendor flooding past its rate
 * limit, or posting while paused, must not buy a store write (and its latency) with every refused
 * request. Counts still held when a container ends are lost, so a day's refusals are a lower bound
 * (docs/spec/scorecard.md). Held counts are bounded by vendors × days, both bounded sets.
 */
export class RefusalTally {
  readonly #pending = new Map<string, PendingCounts>();
  #oldest: number | undefined;

  add(vendorId: string, day: string, increment: ScorecardIncrement, now: number): void {
    const key = `${vendorId}\u0000${day}`;
    const pending = this.#pending.get(key) ?? { vendorId, day, increment: {} };
    for (const [name, amount] of Object.entries(increment)) {
      pending.increment[name] = (pending.increment[name] ?? 0) + amount;
    }
    this.#pending.set(key, pending);
    this.#oldest ??= now;
  }

  /** The held counts once the oldest has waited `windowMs` (the tally is then empty), else none. */
  takeDue(now: number, windowMs: number): PendingCounts[] {
    if (this.#oldest === undefined || now - this.#oldest < windowMs) return [];
    const due = [...this.#pending.values()];
    this.#pending.clear();
    this.#oldest = undefined;
    return due;
  }
}

/** One vendor's day, as the counters say. */
export interface ScorecardDay {
  vendorId: string;
  day: string;
  accepted: number;
  duplicates: number;
  rejected: Partial<Record<RejectionCode, number>>;
  quarantined: Partial<Record<string, number>>;
  divergences: Partial<Record<DivergenceKind, number>>;
  outOfOrder: number;
  normalizedAfterQuarantine: number;
  driftFindings: number;
  /** Counts per DURATION_BUCKETS bucket. */
  lateness: number[];
  redrive: number[];
}

/** The counters of a day's parts summed by name: the day's counters. */
export function sumParts(parts: readonly Record<string, unknown>[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const part of parts) {
    for (const name of COUNTER_NAMES) {
      const count = part[name];
      if (typeof count === "number") sum[name] = (sum[name] ?? 0) + count;
    }
  }
  return sum;
}

/** A day's counters by name (absent: 0) → the day. */
export function scorecardDayOf(
  vendorId: string,
  day: string,
  counters: Record<string, unknown>,
): ScorecardDay {
  const count = (name: string) => (typeof counters[name] === "number" ? (counters[name] as number) : 0);
  const nonZero = <K extends string>(names: readonly K[], prefix: string) =>
    Object.fromEntries(
      names.map((name) => [name, count(`${prefix}_${name}`)]).filter(([, n]) => (n as number) > 0),
    ) as Partial<Record<K, number>>;
  const histogram = (prefix: string) =>
    Array.from({ length: DURATION_BUCKETS }, (_, bucket) => count(`${prefix}_${bucket}`));
  return {
    vendorId,
    day,
    accepted: count("accepted"),
    duplicates: count("duplicates"),
    rejected: nonZero(Object.keys(REJECTION_CODES) as RejectionCode[], "rejected"),
    quarantined: nonZero(REASONS, "quarantined"),
    divergences: nonZero(DIVERGENCE_KINDS, "divergences"),
    outOfOrder: count("outOfOrder"),
    normalizedAfterQuarantine: count("normalizedAfterQuarantine"),
    driftFindings: count("driftFindings"),
    lateness: histogram("lateness"),
    redrive: histogram("redrive"),
  };
}

/** The sum of a breakdown (by code, reason or kind). */
export const totalOf = (counts: Partial<Record<string, number>>) =>
  Object.values(counts).reduce<number>((total, n) => total + (n ?? 0), 0);

/** The score's inputs, each a share of the day's traffic, and the p95 lateness. */
export interface ScoreInputs {
  /** Refused posts over all the vendor's posts (accepted + duplicates + rejected). */
  rejectionRate: number;
  /** Quarantined events over accepted events. */
  quarantineRate: number;
  /** Divergences over accepted events (may pass 1: an event can reveal several). */
  divergenceRate: number;
  /** Events applied out of order over accepted events. */
  outOfOrderShare: number;
  /** p95 of receivedAt − occurredAt in seconds (a bucket's upper bound), 0 without events. */
  p95LatenessSeconds: number;
}

export function scoreInputsOf(day: ScorecardDay): ScoreInputs {
  const rejected = totalOf(day.rejected);
  const posts = day.accepted + day.duplicates + rejected;
  const share = (n: number, of: number) => (of === 0 ? 0 : n / of);
  return {
    rejectionRate: share(rejected, posts),
    quarantineRate: share(totalOf(day.quarantined), day.accepted),
    divergenceRate: share(totalOf(day.divergences), day.accepted),
    outOfOrderShare: share(day.outOfOrder, day.accepted),
    p95LatenessSeconds: percentileSeconds(day.lateness, 95) ?? 0,
  };
}

/**
 * Each penalty: its weight (points out of 100) and the level at which it is fully taken. Below
 * it, a rate costs its share of the weight; lateness costs nothing up to LATENESS_FREE_SECONDS and
 * grows with the logarithm of p95 up to LATENESS_FULL_SECONDS.
 */
export const SCORE_WEIGHTS = {
  rejection: { points: 25, fullAt: 0.1 },
  quarantine: { points: 30, fullAt: 0.05 },
  divergence: { points: 20, fullAt: 0.1 },
  outOfOrder: { points: 10, fullAt: 0.25 },
  lateness: { points: 15 },
} as const;
export const LATENESS_FREE_SECONDS = 60;
export const LATENESS_FULL_SECONDS = 3600;

/** The points each penalty takes (docs/spec/scorecard.md, "The score"). */
export interface ScorePenalties {
  rejection: number;
  quarantine: number;
  divergence: number;
  outOfOrder: number;
  lateness: number;
}

/** The points each penalty takes of a day's inputs: the score is 100 minus their sum, rounded. */
export function scorePenalties(inputs: ScoreInputs): ScorePenalties {
  const taken = (rate: number, weight: { points: number; fullAt: number }) =>
    weight.points * Math.min(1, rate / weight.fullAt);
  const late = inputs.p95LatenessSeconds;
  return {
    rejection: taken(inputs.rejectionRate, SCORE_WEIGHTS.rejection),
    quarantine: taken(inputs.quarantineRate, SCORE_WEIGHTS.quarantine),
    divergence: taken(inputs.divergenceRate, SCORE_WEIGHTS.divergence),
    outOfOrder: taken(inputs.outOfOrderShare, SCORE_WEIGHTS.outOfOrder),
    lateness:
      late <= LATENESS_FREE_SECONDS
        ? 0
        : SCORE_WEIGHTS.lateness.points *
          Math.min(
            1,
            Math.log(late / LATENESS_FREE_SECONDS) / Math.log(LATENESS_FULL_SECONDS / LATENESS_FREE_SECONDS),
          ),
  };
}

/** The day's score, 0 to 100 (a whole number): 100 minus the penalties (docs/spec/scorecard.md). */
export function score(inputs: ScoreInputs): number {
  const { rejection, quarantine, divergence, outOfOrder, lateness } = scorePenalties(inputs);
  return Math.round(100 - (rejection + quarantine + divergence + outOfOrder + lateness));
}
