import { isConditionalCheckFailed } from "./entities/conditions.ts";
import type { Entities, IngestRecordItem } from "./entities/index.ts";
import type { FieldIssue } from "./errors.ts";
import type { ObjectRef } from "./keys.ts";

/**
 * The two ways an event ends, written by the workflow's last states and by the reconciler.
 * Both are conditional writes that are safe to repeat.
 */

export interface RecordKey {
  vendorId: string;
  externalEventId: string;
}

export interface QuarantineEntry {
  ingestId: string;
  vendorId: string;
  externalEventId: string;
  eventType?: string | undefined;
  stage: string;
  reason: string;
  errorName: string;
  message: string;
  details: FieldIssue[];
  rawRef: ObjectRef;
  attempts: number;
}

/** Keyed by ingestId: a rerun replaces the entry with the latest failure and reopens it. */
export async function recordQuarantine(entities: Entities, entry: QuarantineEntry): Promise<void> {
  const now = new Date().toISOString();
  const { rawRef, eventType, ...rest } = entry;
  await entities.quarantine
    .put({
      ...rest,
      ...(eventType && { eventType }),
      rawBucket: rawRef.bucket,
      rawKey: rawRef.key,
      status: "open",
      quarantinedAt: now,
      updatedAt: now,
    })
    .go();
}

/** FAILED_NORMALIZE, unless the event is already NORMALIZED (a failed replay does not undo success). */
export async function markFailed(
  entities: Entities,
  key: RecordKey,
  error: { code: string; message: string },
): Promise<boolean> {
  try {
    await entities.ingestRecords
      .patch(key)
      .set({ status: "FAILED_NORMALIZE", lastError: error, updatedAt: new Date().toISOString() })
      .remove(["pendingShard"])
      .where(({ status }, { ne }) => ne(status, "NORMALIZED"))
      .go();
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}

export interface NormalizedOutcome {
  normalizedRef: ObjectRef;
  standardEventType: string;
  mappingVersion: string;
}

/**
 * NORMALIZED from any status: the latest successful run (first run, redrive, replay) wins. One
 * write, which also answers with the record as it was (undefined: there is no record, nothing
 * written), so the caller needs no read before it.
 */
export async function markNormalized(
  entities: Entities,
  key: RecordKey,
  outcome: NormalizedOutcome,
): Promise<IngestRecordItem | undefined> {
  try {
    const { data } = await entities.ingestRecords
      .patch(key)
      .set({
        status: "NORMALIZED",
        normalizedBucket: outcome.normalizedRef.bucket,
        normalizedKey: outcome.normalizedRef.key,
        standardEventType: outcome.standardEventType,
        mappingVersion: outcome.mappingVersion,
        updatedAt: new Date().toISOString(),
      })
      .remove(["pendingShard", "lastError"])
      .go({ response: "all_old" });
    return data as IngestRecordItem;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return undefined;
    throw error;
  }
}

/**
 * An event that ends NORMALIZED after a redrive (or a replay) resolves its quarantine entry. The
 * whole status index key is rewritten, so the entry moves to the "resolved" listing. Answers the
 * entry's quarantinedAt when this call resolved it (the scorecard times redrives from it).
 */
export async function resolveQuarantine(
  entities: Entities,
  ingestId: string,
  now = new Date(),
): Promise<string | undefined> {
  const { data: entry } = await entities.quarantine.get({ ingestId }).go();
  if (!entry || entry.status === "resolved") return undefined;
  await entities.quarantine
    .patch({ ingestId })
    .set({ status: "resolved", quarantinedAt: entry.quarantinedAt, updatedAt: now.toISOString() })
    .go();
  return entry.quarantinedAt;
}

export type { IngestRecordItem };
