import { Entity, type EntityConfiguration } from "electrodb";
import { REASONS } from "../metrics.ts";
import { DIVERGENCE_KINDS } from "../state/types.ts";

/**
 * Refusals of an authenticated vendor's post, by error code, with the HTTP status each answers.
 * Other refusals (an unknown key, a consumer key, a store down) are not the vendor's.
 */
export const REJECTION_CODES = {
  INVALID_JSON: 400,
  INVALID_ENVELOPE: 400,
  INVALID_SIGNATURE: 401,
  FORBIDDEN: 403,
  VENDOR_PAUSED: 403,
  IDEMPOTENCY_CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
} as const;
export type RejectionCode = keyof typeof REJECTION_CODES;

export const isRejectionCode = (code: string): code is RejectionCode => Object.hasOwn(REJECTION_CODES, code);

/**
 * Durations are kept as histograms of log-spaced buckets: bucket 0 holds up to 1 s (and anything
 * negative: an occurredAt ahead of DVSS's clock), bucket i holds (2^(i-1), 2^i] seconds, the last
 * one everything beyond 2^(BUCKETS-2) s (about 12 days). A percentile is the upper bound of the
 * bucket it falls in: never below the true value, and above 1 s at most twice it.
 */
export const DURATION_BUCKETS = 22;

/** The counters of one item: flat attribute names, because DynamoDB's ADD cannot create a nested map. */
const bucketNames = (prefix: string) =>
  Array.from({ length: DURATION_BUCKETS }, (_, bucket) => `${prefix}_${bucket}`);

export const COUNTER_NAMES: readonly string[] = [
  "accepted",
  "duplicates",
  "outOfOrder",
  "normalizedAfterQuarantine",
  "driftFindings",
  ...Object.keys(REJECTION_CODES).map((code) => `rejected_${code}`),
  ...REASONS.map((reason) => `quarantined_${reason}`),
  ...DIVERGENCE_KINDS.map((kind) => `divergences_${kind}`),
  ...bucketNames("lateness"),
  ...bucketNames("redrive"),
];

const counters = Object.fromEntries(COUNTER_NAMES.map((name) => [name, { type: "number" as const }]));

/**
 * Each vendor-day is spread over this many items (`part` 0 to SCORECARD_PARTS − 1), each write
 * adding to one of them, so a vendor's day takes SCORECARD_PARTS times the writes one item takes
 * (about 1,000 a second); a read sums the parts. Items written before parts existed have no `part`
 * and are read as part 0.
 */
export const SCORECARD_PARTS = 8;

/**
 * A vendor's counters of one UTC day, in SCORECARD_PARTS parts (core/scorecard.ts,
 * docs/spec/scorecard.md): only ever added to, one UpdateItem per outcome, never read before a write.
 */
export const scorecardEntity = (config: EntityConfiguration) =>
  new Entity(
    {
      model: { entity: "scorecard", version: "1", service: "dvss" },
      attributes: {
        vendorId: { type: "string", required: true, readOnly: true },
        /** YYYY-MM-DD, UTC: sorts as the days do. */
        day: { type: "string", required: true, readOnly: true },
        /** Which of the day's SCORECARD_PARTS items; absent on items written before parts (part 0). */
        part: { type: "number", readOnly: true },
        ...counters,
      },
      indexes: {
        byVendor: {
          pk: { field: "pk", composite: ["vendorId"], casing: "none" },
          sk: { field: "sk", composite: ["day", "part"], casing: "none" },
        },
      },
    },
    config,
  );
