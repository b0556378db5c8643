import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { encodeTime } from "ulid";
import { findIngestRecord, type IngestStatus } from "../entities/index.ts";
import { isIngestId } from "../ids.ts";
import { rawDayPrefix } from "../keys.ts";
import type { OpsContext } from "./context.ts";

/**
 * One vendor's recent events and what became of them, for the console's vendor page: events per
 * minute by outcome, accept → NORMALIZED lag, quarantine by reason.
 *
 * No table lists a vendor's records by time (IngestRecords is keyed by (vendorId,
 * externalEventId)); the raw archive does: `raw/<vendorId>/YYYY/MM/DD/<ingestId>.json`, and an
 * ingestId is a ULID, which sorts by arrival. So a window is read newest first as S3 listings of
 * one UTC hour each (narrowed to 5 minutes, then 1 minute, where a slice holds more than the
 * budget), starting after the slice's first ULID time, and then each event's record by the
 * ingestId index. Bounded: at most `maxEvents` records (one Query each) and MAX_LIST_CALLS
 * listings, whatever the vendor sent; past either the activity says from when it is complete.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;

/**
 * Records read per call at most (one ingestId-index Query each): the newest events of the window.
 * Measured on the local runtime (dynalite on disk, a 2-core machine under load): ~2-3 ms a record,
 * so 1,000 take 2-3 s, 2,000 took 6-8.5 s; the listings are a few calls (25 for a quiet day).
 */
export const ACTIVITY_MAX_EVENTS = 1_000;
/** Keys per S3 listing (S3's most). */
const LIST_PAGE_KEYS = 1_000;
/** S3 listings per call at most (1,000 keys each). */
export const MAX_LIST_CALLS = 60;
/** Record queries in flight at once. */
const QUERY_CONCURRENCY = 16;
/** Slice widths, widest first: a slice with more keys than the budget is listed again as narrower ones. */
const SLICE_WIDTHS = [HOUR_MS, 5 * MINUTE_MS, MINUTE_MS];

export interface ActivityEvent {
  ingestId: string;
  /** Epoch ms of its arrival (its ingestId's time, the record's receivedAt). */
  receivedAt: number;
  status: IngestStatus;
  /** Accept → NORMALIZED in ms, for an event normalized by its first execution (the only one timed). */
  lagMs?: number;
  /** FAILED_NORMALIZE: the quarantine reason (the record's last error code). */
  reason?: string;
}

export interface VendorActivity {
  vendorId: string;
  /** The window asked for, epoch ms, [from, to). */
  from: number;
  to: number;
  /** Newest first. */
  events: ActivityEvent[];
  /**
   * Events are complete from this instant to `to`: `from` when the whole window was read, else
   * the arrival of the oldest event read (the budget ran out before the window's start).
   */
  completeFrom: number;
  /** Raw objects listed without a record: a post refused after its body was stored (not accepted). */
  withoutRecord: number;
  listCalls: number;
  recordQueries: number;
}

interface Listing {
  pageKeys: number;
  calls: number;
  /** Newest first, ingestIds. */
  newest: string[];
}

const ingestIdOf = (key: string) => key.slice(key.lastIndexOf("/") + 1).replace(/\.json$/, "");

/**
 * The ingestIds of one slice [from, to) within one UTC day, ascending, or undefined when it holds
 * more than `maxPages` listings' worth (the caller narrows it).
 */
async function listSlice(
  context: OpsContext,
  vendorId: string,
  from: number,
  to: number,
  maxPages: number,
  listing: Listing,
): Promise<string[] | undefined> {
  const prefix = rawDayPrefix(vendorId, new Date(from));
  const end = `${prefix}${encodeTime(to, 10)}`;
  const ids: string[] = [];
  // Each page starts after the last key seen (StartAfter), not with a continuation token: the
  // local S3 (s3rver) mints its tokens with DES, which Node's OpenSSL 3 no longer offers.
  let after = `${prefix}${encodeTime(from, 10)}`;
  for (let pages = 0; ; pages++) {
    if (pages >= maxPages || listing.calls >= MAX_LIST_CALLS) return undefined;
    listing.calls += 1;
    const page = await context.s3.send(
      new ListObjectsV2Command({
        Bucket: context.target.buckets.RawBucket,
        Prefix: prefix,
        MaxKeys: listing.pageKeys,
        StartAfter: after,
      }),
    );
    const contents = page.Contents ?? [];
    for (const object of contents) {
      const key = object.Key ?? "";
      if (key >= end) return ids;
      const ingestId = ingestIdOf(key);
      if (isIngestId(ingestId)) ids.push(ingestId);
    }
    const last = contents.at(-1)?.Key;
    if (!page.IsTruncated || last === undefined) return ids;
    after = last;
  }
}

/** Newest first into `listing.newest` until `budget`; true when [from, to) was listed whole. */
async function listNewest(
  context: OpsContext,
  vendorId: string,
  from: number,
  to: number,
  level: number,
  budget: number,
  listing: Listing,
): Promise<boolean> {
  const width = SLICE_WIDTHS[level] ?? MINUTE_MS;
  const narrowest = level >= SLICE_WIDTHS.length - 1;
  for (let start = Math.floor((to - 1) / width) * width; start + width > from; start -= width) {
    const sliceFrom = Math.max(start, from);
    const sliceTo = Math.min(start + width, to);
    const maxPages = narrowest
      ? MAX_LIST_CALLS
      : Math.ceil((budget - listing.newest.length) / listing.pageKeys) + 1;
    const ids = await listSlice(context, vendorId, sliceFrom, sliceTo, maxPages, listing);
    if (ids === undefined) {
      if (narrowest || listing.calls >= MAX_LIST_CALLS) return false;
      if (!(await listNewest(context, vendorId, sliceFrom, sliceTo, level + 1, budget, listing)))
        return false;
      continue;
    }
    listing.newest.push(...ids.reverse());
    if (listing.newest.length >= budget) {
      const complete = listing.newest.length === budget && sliceFrom === from;
      listing.newest.length = budget;
      return complete;
    }
  }
  return true;
}

async function mapConcurrent<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * The vendor's events that arrived in [from, to), newest first, with their outcomes (bounded: see
 * above). `pageKeys` (keys per listing) is S3's 1,000 but for tests.
 */
export async function vendorActivity(
  context: OpsContext,
  vendorId: string,
  window: { from: number; to: number },
  { maxEvents = ACTIVITY_MAX_EVENTS, pageKeys = LIST_PAGE_KEYS } = {},
): Promise<VendorActivity> {
  const listing: Listing = { pageKeys, calls: 0, newest: [] };
  const whole = await listNewest(context, vendorId, window.from, window.to, 0, maxEvents, listing);
  const records = await mapConcurrent(listing.newest, QUERY_CONCURRENCY, (ingestId) =>
    findIngestRecord(context.entities.ingestRecords, ingestId),
  );
  const events: ActivityEvent[] = [];
  for (const record of records) {
    if (!record || record.vendorId !== vendorId) continue;
    const receivedAt = Date.parse(record.receivedAt);
    const event: ActivityEvent = { ingestId: record.ingestId, receivedAt, status: record.status };
    // A later execution (redrive, replay, restart) moves updatedAt: only a first run's time is the lag.
    if (record.status === "NORMALIZED" && (record.attempts ?? 0) <= 1 && record.updatedAt) {
      event.lagMs = Math.max(0, Date.parse(record.updatedAt) - receivedAt);
    }
    if (record.status === "FAILED_NORMALIZE") event.reason = record.lastError?.code ?? "OTHER";
    events.push(event);
  }
  const oldestRead = listing.newest.at(-1);
  return {
    vendorId,
    from: window.from,
    to: window.to,
    events,
    completeFrom:
      whole || oldestRead === undefined ? window.from : Math.max(window.from, decodeIngestTime(oldestRead)),
    withoutRecord: listing.newest.length - events.length,
    listCalls: listing.calls,
    recordQueries: listing.newest.length,
  };
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
function decodeIngestTime(ingestId: string): number {
  let time = 0;
  for (const char of ingestId.slice(0, 10).toUpperCase()) time = time * 32 + CROCKFORD.indexOf(char);
  return time;
}

/** One bar of a chart: the events that arrived in [start, start + width). */
export interface ActivityBucket {
  start: number;
  accepted: number;
  normalized: number;
  quarantined: number;
  /** Still RECEIVED: in the workflow, or waiting for the reconciler. */
  inFlight: number;
  /** Lag percentiles (nearest rank, exact) of the bucket's timed events, ms; undefined without one. */
  lagP50Ms?: number;
  lagP95Ms?: number;
  /** The bucket starts before `completeFrom`: its counts may be short. */
  partial: boolean;
}

export interface ActivitySeries {
  from: number;
  to: number;
  bucketMs: number;
  buckets: ActivityBucket[];
  /** Quarantined events of the window by reason, most first. */
  quarantineByReason: { reason: string; count: number }[];
  totals: { accepted: number; normalized: number; quarantined: number; inFlight: number };
  completeFrom: number;
}

function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The events of [from, to) in buckets of `bucketMs` (from and to on bucket bounds). */
export function activitySeries(
  activity: Pick<VendorActivity, "events" | "completeFrom">,
  window: { from: number; to: number; bucketMs: number },
): ActivitySeries {
  const count = Math.ceil((window.to - window.from) / window.bucketMs);
  const lags: number[][] = Array.from({ length: count }, () => []);
  const buckets: ActivityBucket[] = Array.from({ length: count }, (_, index) => {
    const start = window.from + index * window.bucketMs;
    return {
      start,
      accepted: 0,
      normalized: 0,
      quarantined: 0,
      inFlight: 0,
      partial: start < activity.completeFrom,
    };
  });
  const reasons = new Map<string, number>();
  for (const event of activity.events) {
    const index = Math.floor((event.receivedAt - window.from) / window.bucketMs);
    const bucket = buckets[index];
    if (!bucket || event.receivedAt >= window.to) continue;
    bucket.accepted += 1;
    if (event.status === "NORMALIZED") bucket.normalized += 1;
    else if (event.status === "FAILED_NORMALIZE") {
      bucket.quarantined += 1;
      const reason = event.reason ?? "OTHER";
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    } else bucket.inFlight += 1;
    if (event.lagMs !== undefined) lags[index]?.push(event.lagMs);
  }
  buckets.forEach((bucket, index) => {
    const sorted = (lags[index] ?? []).sort((a, b) => a - b);
    const p50 = percentile(sorted, 50);
    const p95 = percentile(sorted, 95);
    if (p50 !== undefined) bucket.lagP50Ms = p50;
    if (p95 !== undefined) bucket.lagP95Ms = p95;
  });
  const sum = (pick: (bucket: ActivityBucket) => number) => buckets.reduce((total, b) => total + pick(b), 0);
  return {
    ...window,
    buckets,
    quarantineByReason: [...reasons]
      .map(([reason, n]) => ({ reason, count: n }))
      .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
    totals: {
      accepted: sum((b) => b.accepted),
      normalized: sum((b) => b.normalized),
      quarantined: sum((b) => b.quarantined),
      inFlight: sum((b) => b.inFlight),
    },
    completeFrom: activity.completeFrom,
  };
}
