import { Entity, type EntityConfiguration, type EntityItem } from "electrodb";
import { VENDOR_ID_PATTERN } from "../envelope.ts";

export const INGEST_STATUSES = ["RECEIVED", "NORMALIZED", "FAILED_NORMALIZE"] as const;
export type IngestStatus = (typeof INGEST_STATUSES)[number];

/** Records awaiting processing are spread over this many partitions of the pending index. */
export const PENDING_SHARDS = 8;

/**
 * One accepted event: the idempotency record, keyed by (vendorId, externalEventId). The key is
 * `$dvss#vendorId_<vendorId>#externalEventId_<externalEventId>`: a vendorId never holds `#`
 * (VENDOR_ID_PATTERN, checked on every write), so whatever an externalEventId holds, two pairs
 * never share a key.
 */
export const ingestRecordEntity = (config: EntityConfiguration) =>
  new Entity(
    {
      model: { entity: "ingestRecord", version: "1", service: "dvss" },
      attributes: {
        vendorId: { type: "string", required: true, readOnly: true, validate: VENDOR_ID_PATTERN },
        externalEventId: { type: "string", required: true, readOnly: true },
        ingestId: { type: "string", required: true, readOnly: true },
        eventType: { type: "string", required: true, readOnly: true },
        occurredAt: { type: "string", required: true, readOnly: true },
        schemaVersion: { type: "string" },
        receivedAt: { type: "string", required: true, readOnly: true },
        rawBucket: { type: "string", required: true, readOnly: true },
        rawKey: { type: "string", required: true, readOnly: true },
        /** contentHash of the envelope: tells a duplicate from a conflict. */
        payloadSha256: { type: "string", required: true, readOnly: true },
        status: { type: INGEST_STATUSES, required: true },
        /** Set while RECEIVED, removed once final: membership of the sparse pending index. */
        pendingShard: { type: "string" },
        standardEventType: { type: "string" },
        normalizedBucket: { type: "string" },
        normalizedKey: { type: "string" },
        mappingVersion: { type: "string" },
        /** Executions started for this event (first start, reconciler restarts, redrives, replays). */
        attempts: { type: "number", default: 0 },
        /**
         * Of those, executions lost with a local runtime that stopped before they finished (counted
         * when the next one starts): the event did nothing wrong, so the reconciler does not count
         * them toward its maximum (up to DVSS_RECONCILE_MAX_LOST, so an event that keeps ending the
         * runtime is still quarantined in the end).
         */
        lostExecutions: { type: "number" },
        lastError: { type: "map", properties: { code: { type: "string" }, message: { type: "string" } } },
        updatedAt: { type: "string" },
      },
      indexes: {
        record: {
          pk: { field: "pk", composite: ["vendorId", "externalEventId"], casing: "none" },
          sk: { field: "sk", composite: [], casing: "none" },
        },
        byIngestId: {
          index: "gsi1",
          pk: { field: "gsi1pk", composite: ["ingestId"], casing: "none" },
          sk: { field: "gsi1sk", composite: [], casing: "none" },
        },
        pending: {
          index: "gsi2",
          pk: { field: "gsi2pk", composite: ["pendingShard"], casing: "none" },
          sk: { field: "gsi2sk", composite: ["receivedAt"], casing: "none" },
        },
      },
    },
    config,
  );

export type IngestRecordItem = EntityItem<ReturnType<typeof ingestRecordEntity>>;

/** Which pending-index partition an ingestId belongs to (its last character spreads evenly). */
export function pendingShardOf(ingestId: string): string {
  return String(ingestId.charCodeAt(ingestId.length - 1) % PENDING_SHARDS);
}

/**
 * The ingest record of an ingestId, or undefined. The by-ingestId index holds only the record's
 * key (core/tables.ts), so the record itself is read by that key: a status update does not have
 * to write the index too.
 */
export async function findIngestRecord(
  records: ReturnType<typeof ingestRecordEntity>,
  ingestId: string,
): Promise<IngestRecordItem | undefined> {
  const { data } = await records.query
    .byIngestId({ ingestId })
    .go({ limit: 1, attributes: ["vendorId", "externalEventId"] });
  const key = data[0];
  if (!key) return undefined;
  const { data: record } = await records.get(key).go();
  return record ?? undefined;
}
