import type { Principal } from "./auth.ts";
import { isConditionalCheckFailed } from "./entities/conditions.ts";
import type { Entities, IngestRecordItem } from "./entities/index.ts";
import { pendingShardOf } from "./entities/index.ts";
import { type Envelope, parseEnvelope } from "./envelope.ts";
import { DvssError, ForbiddenError, IdempotencyConflictError, StorageUnavailableError } from "./errors.ts";
import { explainFailure } from "./failures.ts";
import { contentHash, decideIdempotency } from "./hash.ts";
import { newIngestId } from "./ids.ts";
import { rawKey } from "./keys.ts";
import { executionName } from "./ops/execution-names.ts";
import { releaseAttempt, startWasRefused } from "./ops/runs.ts";
import type { NormalizeInput } from "./workflow.ts";

/** What a workflow execution starts from: references, never the payload. */
export type WorkflowInput = NormalizeInput;

/** The stores the ingest path writes to, as the few operations it needs. */
export interface IngestPorts {
  entities: Entities;
  rawBucket: string;
  /** Write-once put (If-None-Match: *) of the body exactly as received. */
  putRawObject(key: string, body: Buffer): Promise<void>;
  deleteRawObject(key: string): Promise<void>;
  /** Starts the normalize workflow under the event's first execution name (ops/execution-names.ts). */
  startExecution(input: WorkflowInput, executionName: string): Promise<void>;
  /** Called on a 409 so the conflict is recorded where operators look (divergence). */
  onConflict?(conflict: ConflictingEvent): Promise<void>;
  log?: { warn(message: string, extra?: Record<string, unknown>): void };
  now?: () => number;
}

/** An incoming event that reuses a recorded event's (vendorId, externalEventId) with other content. */
export interface ConflictingEvent {
  envelope: Envelope;
  existing: IngestRecordItem;
  incomingHash: string;
}

export type IngestResult =
  | { status: "ACCEPTED"; ingestId: string; envelope: Envelope }
  | { status: "DUPLICATE"; ingestId: string; envelope: Envelope };

/**
 * docs/architecture steps 2–6 for an authenticated vendor: validate, fast duplicate read, raw object,
 * conditional record, start. The record is the commit point: before it nothing is accepted (a
 * failure, as explainFailure reports it, answers 5xx and leaves at most an orphan raw object under
 * a fresh ingestId, which no retry can mistake for a duplicate); after it the event is accepted
 * even if the start fails.
 */
export async function ingestEvent(
  ports: IngestPorts,
  principal: Principal,
  body: Buffer,
): Promise<IngestResult> {
  const envelope = parseEnvelope(body);
  if (envelope.vendorId !== principal.vendorId) {
    throw new ForbiddenError(
      `This API key belongs to vendor ${principal.vendorId}, not ${envelope.vendorId}`,
    );
  }
  const incomingHash = contentHash(envelope);
  const recordKey = { vendorId: envelope.vendorId, externalEventId: envelope.externalEventId };

  const resolveExisting = async (existing: IngestRecordItem): Promise<IngestResult> => {
    const decision = decideIdempotency(existing, incomingHash);
    if (decision.outcome === "CONFLICT") {
      await ports.onConflict?.({ envelope, existing, incomingHash });
      throw new IdempotencyConflictError(
        `externalEventId ${envelope.externalEventId} was already used by ingest ${existing.ingestId} with different content`,
        existing.ingestId,
      );
    }
    return { status: "DUPLICATE", ingestId: existing.ingestId, envelope };
  };

  let existing: IngestRecordItem | null;
  try {
    existing = (await ports.entities.ingestRecords.get(recordKey).go()).data;
  } catch (cause) {
    throw explainFailure(cause, "idempotency read");
  }
  if (existing) return resolveExisting(existing);

  const now = ports.now?.() ?? Date.now();
  const ingestId = newIngestId(now);
  const rawRef = { bucket: ports.rawBucket, key: rawKey(envelope.vendorId, ingestId) };
  try {
    await ports.putRawObject(rawRef.key, body);
  } catch (cause) {
    throw explainFailure(cause, "raw archive write");
  }

  try {
    await ports.entities.ingestRecords
      .create({
        ...recordKey,
        ingestId,
        eventType: envelope.eventType,
        occurredAt: envelope.occurredAt,
        ...(envelope.schemaVersion !== undefined && { schemaVersion: envelope.schemaVersion }),
        receivedAt: new Date(now).toISOString(),
        rawBucket: rawRef.bucket,
        rawKey: rawRef.key,
        payloadSha256: incomingHash,
        status: "RECEIVED",
        pendingShard: pendingShardOf(ingestId),
        attempts: 1,
      })
      .go();
  } catch (cause) {
    // Either way our raw object is an orphan: nothing points at it.
    await ports.deleteRawObject(rawRef.key).catch((error: unknown) => {
      ports.log?.warn("orphan raw object not deleted", { rawKey: rawRef.key, error: String(error) });
    });
    if (!isConditionalCheckFailed(cause)) throw explainFailure(cause, "idempotency write");
    // Lost the race to a concurrent copy of this event: answer as if we had read its record first.
    let winner: IngestRecordItem | null;
    try {
      winner = (await ports.entities.ingestRecords.get(recordKey).go()).data;
    } catch (error) {
      throw explainFailure(error, "idempotency re-read");
    }
    // The read is eventually consistent: the record that refused our write may not show yet.
    if (!winner) {
      throw new StorageUnavailableError(
        "A store did not answer (idempotency re-read): the record is not readable yet",
        {
          cause,
        },
      );
    }
    return resolveExisting(winner);
  }

  try {
    await ports.startExecution(
      { ingestId, vendorId: envelope.vendorId, externalEventId: envelope.externalEventId, rawRef },
      executionName(ingestId),
    );
  } catch (error) {
    // Accepted all the same: the record stays RECEIVED and the reconciler starts it again. A
    // refused start is no execution: attempt 1 goes back, so the reconciler's first run is
    // attempt 1, under this same name, and refusals never bring the event closer to STUCK.
    if (startWasRefused(error)) {
      await releaseAttempt(ports.entities.ingestRecords, recordKey, 1).catch((release: unknown) => {
        ports.log?.warn("refused start's attempt not given back", { ingestId, error: String(release) });
      });
    }
    const failure = explainFailure(error, "workflow start");
    ports.log?.warn("workflow start failed; left for the reconciler", {
      ingestId,
      errorCode: failure instanceof DvssError ? failure.code : "INTERNAL",
      error: failure.message,
    });
  }
  return { status: "ACCEPTED", ingestId, envelope };
}
