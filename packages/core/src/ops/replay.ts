import { basename } from "node:path";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import type { IngestRecordItem } from "../entities/index.ts";
import { parseEnvelope } from "../envelope.ts";
import { DvssError } from "../errors.ts";
import { isIngestId } from "../ids.ts";
import { normalizedKey, type ObjectRef, rawDayPrefix } from "../keys.ts";
import { diffJson } from "../mapping/check.ts";
import { buildNormalizedDocument, serializeNormalized } from "../normalized.ts";
import { mapBounded } from "./concurrency.ts";
import type { OpsContext } from "./context.ts";
import {
  awaitOutcome,
  awaitPublishedDefinitions,
  claimAndStart,
  resolveQuarantine,
  runPortsOf,
} from "./runs.ts";
import { findRecord } from "./story.ts";

/**
 * Replay: normalization again, from the raw archive, for one vendor's events in a time window.
 * The window is on the ingestId's ULID time (when the event arrived), which is also the day in
 * its raw key, so it is read with one prefix listing per day. A dry run maps each raw object
 * in-process with the definitions the workflow would use now and compares the result with the
 * stored normalized document, writing nothing; a real replay starts one execution per event and
 * waits for it, at most `concurrency` at a time. The workflow is idempotent: a replay writes the
 * same bytes for an unchanged mapping and never counts an event into canonical state twice.
 */

export type ReplayResult =
  /** Same normalized bytes as stored. */
  | "unchanged"
  /** Other bytes than stored (a new mapping version, a fixed mapping). */
  | "changed"
  /** No normalized document was stored before. */
  | "new"
  /** Dry run: the event would be quarantined. */
  | "would_fail"
  /** Real run: the event was quarantined. */
  | "quarantined"
  /** Real run: the execution failed or did not finish in time. */
  | "failed"
  /** Not replayed: a raw object without an ingest record. */
  | "skipped";

export interface ReplayItem {
  ingestId: string;
  rawKey: string;
  eventType?: string;
  result: ReplayResult;
  /** Where the normalized document is (after the replay). */
  normalizedKey?: string;
  /** For "changed": one line per differing field. */
  diff?: string[];
  reason?: string;
  message?: string;
  executionName?: string;
}

export interface ReplayOptions {
  vendorId: string;
  from?: Date | undefined;
  to?: Date | undefined;
  /** The vendor's event type (inventory_update) or the standard one (InventoryUpdated). */
  eventType?: string | undefined;
  dryRun?: boolean;
  concurrency?: number;
  timeoutMs?: number;
  onListed?: (total: number) => void;
  onProgress?: (done: number, total: number) => void;
  onPublishWait?: (ms: number) => void;
}

export interface ReplayReport {
  vendorId: string;
  from?: string;
  to: string;
  dryRun: boolean;
  items: ReplayItem[];
  counts: Partial<Record<ReplayResult, number>>;
}

const DAY_MS = 86_400_000;
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** The ULID's time (its first ten characters), in epoch ms. */
export function ingestTime(ingestId: string): number {
  let time = 0;
  for (const char of ingestId.slice(0, 10).toUpperCase()) time = time * 32 + CROCKFORD.indexOf(char);
  return time;
}

/**
 * The vendor's raw keys in [from, to) with their ingestIds, one listing page at a time, in key
 * (arrival) order: per-day prefixes when the window starts somewhere, else the whole archive.
 */
export async function* rawKeyPages(
  context: OpsContext,
  vendorId: string,
  from: Date | undefined,
  to: Date,
): AsyncGenerator<{ key: string; ingestId: string }[]> {
  const prefixes: string[] = [];
  if (from) {
    for (let day = Math.floor(from.getTime() / DAY_MS) * DAY_MS; day < to.getTime(); day += DAY_MS) {
      prefixes.push(rawDayPrefix(vendorId, new Date(day)));
    }
  } else {
    prefixes.push(`raw/${vendorId}/`);
  }
  for (const prefix of prefixes) {
    let token: string | undefined;
    do {
      const listing = await context.s3.send(
        new ListObjectsV2Command({
          Bucket: context.target.buckets.RawBucket,
          Prefix: prefix,
          ...(token && { ContinuationToken: token }),
        }),
      );
      yield (listing.Contents ?? [])
        .map((object) => object.Key ?? "")
        .map((key) => ({ key, ingestId: basename(key, ".json") }))
        .filter(({ key, ingestId }) => key.endsWith(".json") && isIngestId(ingestId))
        .filter(({ ingestId }) => {
          const time = ingestTime(ingestId);
          return (!from || time >= from.getTime()) && time < to.getTime();
        });
      token = listing.IsTruncated ? listing.NextContinuationToken : undefined;
    } while (token);
  }
}

/** The raw keys of a vendor in [from, to) (rawKeyPages), all of them, in ingestId order. */
export async function listRawKeys(context: OpsContext, vendorId: string, from: Date | undefined, to: Date) {
  const keys: { key: string; ingestId: string }[] = [];
  for await (const page of rawKeyPages(context, vendorId, from, to)) keys.push(...page);
  return keys.sort((a, b) => a.ingestId.localeCompare(b.ingestId));
}

/** An object's bytes; undefined when there is none (NoSuchKey). */
export async function readObject(context: OpsContext, ref: ObjectRef): Promise<Buffer | undefined> {
  try {
    const object = await context.s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return Buffer.from(
      await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
  } catch (error) {
    if ((error as Error).name === "NoSuchKey") return undefined;
    throw error;
  }
}

/** The vendor event type in a raw object, for objects without a record; undefined when unreadable. */
async function rawEventType(context: OpsContext, key: string): Promise<string | undefined> {
  try {
    const raw = await readObject(context, { bucket: context.target.buckets.RawBucket, key });
    return raw && (JSON.parse(raw.toString()) as { eventType?: string }).eventType;
  } catch {
    return undefined;
  }
}

function storedNormalizedRef(context: OpsContext, record: IngestRecordItem): ObjectRef | undefined {
  return record.normalizedKey
    ? {
        bucket: record.normalizedBucket ?? context.target.buckets.NormalizedBucket,
        key: record.normalizedKey,
      }
    : undefined;
}

function compare(
  before: Buffer | undefined,
  after: Buffer,
  key: string,
): Pick<ReplayItem, "result" | "diff"> {
  if (!before) return { result: "new" };
  if (before.equals(after)) return { result: "unchanged" };
  let diff: string[];
  try {
    diff = diffJson(JSON.parse(before.toString()), JSON.parse(after.toString()));
  } catch {
    diff = [`${key}: stored bytes are not JSON`];
  }
  return { result: "changed", diff: diff.length > 0 ? diff : ["(same content, other bytes)"] };
}

/** What a replay would write for one event, mapped here with the definitions the workflow would use. */
async function dryRun(
  context: OpsContext,
  record: IngestRecordItem,
): Promise<Omit<ReplayItem, "ingestId" | "rawKey">> {
  const rawRef = { bucket: record.rawBucket, key: record.rawKey };
  try {
    const raw = await readObject(context, rawRef);
    if (!raw)
      return {
        result: "would_fail",
        reason: "MISSING_RECORD",
        message: `raw object ${rawRef.key} is missing`,
      };
    const envelope = parseEnvelope(raw);
    const engine = context.mappingEngine();
    const { mappingVersion } = await engine.validatePayload(envelope);
    const mapped = await engine.mapEvent(envelope, mappingVersion);
    const document = buildNormalizedDocument({
      ingestId: record.ingestId,
      envelope,
      standardEventType: mapped.standardEventType,
      data: mapped.data,
      rawRef,
    });
    const bytes = Buffer.from(serializeNormalized(document));
    const key = normalizedKey(mapped.standardEventType, record.ingestId);
    const stored = storedNormalizedRef(context, record);
    const before = await readObject(
      context,
      stored ?? { bucket: context.target.buckets.NormalizedBucket, key },
    );
    return { normalizedKey: key, ...compare(before, bytes, key) };
  } catch (error) {
    if (!(error instanceof DvssError)) throw error;
    return { result: "would_fail", reason: error.code, message: error.message };
  }
}

async function realRun(
  context: OpsContext,
  record: IngestRecordItem,
  timeoutMs: number,
): Promise<Omit<ReplayItem, "ingestId" | "rawKey">> {
  const storedBefore = storedNormalizedRef(context, record);
  const before = storedBefore && (await readObject(context, storedBefore));
  const run = await claimAndStart(runPortsOf(context), record, "replay");
  const outcome = await awaitOutcome(context, run, record, { timeoutMs });
  const executionName = run.executionName;
  if (outcome.status === "QUARANTINED") {
    return {
      result: "quarantined",
      executionName,
      ...(outcome.reason && { reason: outcome.reason }),
      ...(outcome.message && { message: outcome.message }),
    };
  }
  if (outcome.status !== "NORMALIZED") {
    return {
      result: "failed",
      executionName,
      reason: outcome.status,
      ...(outcome.message && { message: outcome.message }),
    };
  }
  await resolveQuarantine(context, record.ingestId);
  const after = await findRecord(context, record.ingestId);
  const ref = after && storedNormalizedRef(context, after);
  const bytes = ref && (await readObject(context, ref));
  if (!ref || !bytes)
    return { result: "failed", executionName, message: "normalized, but no normalized document was found" };
  return { executionName, normalizedKey: ref.key, ...compare(before, bytes, ref.key) };
}

export async function replayWindow(context: OpsContext, options: ReplayOptions): Promise<ReplayReport> {
  const to = options.to ?? new Date(context.now());
  const listed = await listRawKeys(context, options.vendorId, options.from, to);
  options.onListed?.(listed.length);
  const dryRunMode = options.dryRun ?? false;
  if (!dryRunMode && listed.length > 0) {
    await awaitPublishedDefinitions(context, [options.vendorId], options.onPublishWait);
  }
  let done = 0;
  const replayed = await mapBounded(
    listed,
    options.concurrency ?? 4,
    async ({ key, ingestId }): Promise<ReplayItem | undefined> => {
      try {
        const record = await findRecord(context, ingestId);
        if (!record || record.vendorId !== options.vendorId) {
          if (options.eventType && (await rawEventType(context, key)) !== options.eventType) return undefined;
          return {
            ingestId,
            rawKey: key,
            result: "skipped",
            message: "no ingest record (an orphan raw object)",
          };
        }
        const base = { ingestId, rawKey: key, eventType: record.eventType };
        if (options.eventType && ![record.eventType, record.standardEventType].includes(options.eventType)) {
          return undefined;
        }
        const outcome = dryRunMode
          ? await dryRun(context, record)
          : await realRun(context, record, options.timeoutMs ?? 60_000);
        return { ...base, ...outcome };
      } catch (error) {
        return { ingestId, rawKey: key, result: "failed", message: (error as Error).message };
      } finally {
        options.onProgress?.(++done, listed.length);
      }
    },
  );
  const items = replayed.filter((item) => item !== undefined);
  const counts: ReplayReport["counts"] = {};
  for (const item of items) counts[item.result] = (counts[item.result] ?? 0) + 1;
  return {
    vendorId: options.vendorId,
    ...(options.from && { from: options.from.toISOString() }),
    to: to.toISOString(),
    dryRun: dryRunMode,
    items,
    counts,
  };
}
