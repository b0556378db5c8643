import { MissingRecordError } from "@dvss/core/errors";
import { eventTypeDimension, LATENCY_STAGES, reasonDimension } from "@dvss/core/metrics";
import { type IngestRecordItem, markFailed, markNormalized, resolveQuarantine } from "@dvss/core/outcomes";
import { addToScorecard, outcomeIncrement, type RecordedOutcome, utcDay } from "@dvss/core/scorecard";
import type { ApplyStateResult, MapResult, NormalizeInput, QuarantineResult } from "@dvss/core/workflow";
import { getEntities, logger } from "./aws.ts";
import { emitMetric } from "./metrics.ts";

/**
 * Recording an event's outcome on its ingest record: NORMALIZED at the end of ApplyState,
 * FAILED_NORMALIZE by MarkFailed (the UpdateStatus function). Each also counts the outcome on the
 * vendor's scorecard, emits its metric and logs the event's one outcome line.
 */

/** Adds the outcome to the vendor's scorecard of the day the event was received (one UpdateItem, if any). */
async function countOutcome(
  record: IngestRecordItem,
  outcome: Pick<RecordedOutcome, "status" | "quarantineReason" | "quarantinedAt" | "applied">,
): Promise<void> {
  const increment = outcomeIncrement({
    ...outcome,
    previousStatus: record.status,
    receivedAt: record.receivedAt,
    occurredAt: record.occurredAt,
    now: new Date(),
  });
  if (!increment) return;
  // The ingestId picks the part: a retried write adds to the part its first try did.
  await addToScorecard(
    getEntities(),
    record.vendorId,
    utcDay(record.receivedAt),
    increment,
    { warn: (message, extra) => logger.warn(message, extra ?? {}) },
    record.ingestId,
  );
}

/**
 * The event's one INFO line at its end, NORMALIZED or FAILED_NORMALIZE (its ids and receivedAt are
 * the logger's appended keys): the status the record has now, the vendor's event type, the time
 * since the event was received, and for a failure its reason (the "quarantined" and "task failed"
 * lines before it tell the rest). `changed: false`: the record kept the status it had (a failed run
 * of an event another run normalized).
 */
function logOutcome(
  record: Pick<IngestRecordItem, "eventType" | "receivedAt">,
  status: string,
  extra: { reason?: string; changed?: boolean } = {},
): void {
  logger.info("event outcome", {
    status,
    eventType: record.eventType,
    latencyMs: Date.now() - Date.parse(record.receivedAt),
    ...(extra.reason !== undefined && { reason: extra.reason }),
    ...(extra.changed === false && { changed: false }),
  });
}

const recordKey = (state: NormalizeInput) => ({
  vendorId: state.vendorId,
  externalEventId: state.externalEventId,
});

const missingRecord = (state: NormalizeInput) =>
  new MissingRecordError(`No ingest record for ${state.vendorId}/${state.externalEventId}`);

/**
 * Marks the record NORMALIZED with a conditional write that answers with the record as it was (no
 * read before it); leaving RECEIVED also takes it out of the reconciler's pending index. A record
 * that had failed has its quarantine entry resolved. `applied` is what ApplyState did, for the
 * scorecard (its divergences, whether it came out of order).
 */
export async function recordNormalized(
  state: NormalizeInput & { normalized: MapResult },
  applied: Pick<ApplyStateResult, "divergences" | "outOfOrder"> | undefined,
): Promise<void> {
  const entities = getEntities();
  const before = await markNormalized(entities, recordKey(state), state.normalized);
  if (!before) throw missingRecord(state);
  // Only a record that had failed can have a quarantine entry to resolve: no read otherwise.
  const quarantinedAt =
    before.status === "FAILED_NORMALIZE" ? await resolveQuarantine(entities, state.ingestId) : undefined;
  await countOutcome(before, {
    status: "NORMALIZED",
    ...(quarantinedAt !== undefined && { quarantinedAt }),
    ...(applied && { applied }),
  });
  // Counted once per event that becomes NORMALIZED; a replay of a normalized one is not an outcome.
  if (before.status !== "NORMALIZED") {
    const eventType = eventTypeDimension(before.eventType);
    emitMetric("normalizeSuccess", { vendorId: state.vendorId, eventType });
  }
  // From acceptance only: a redrive's time would count the days an event waited in quarantine.
  if (before.status === "RECEIVED") {
    const latency = Date.now() - Date.parse(before.receivedAt);
    emitMetric("pipelineLatency", { stage: LATENCY_STAGES.normalize }, latency);
  }
  logOutcome(before, "NORMALIZED");
}

/**
 * Marks the record FAILED_NORMALIZE with the quarantine's reason, unless another run normalized
 * it first (a conditional write). Answers the record's status after, and whether it changed.
 */
export async function recordFailed(
  state: NormalizeInput & { quarantine: QuarantineResult },
): Promise<{ status: string; changed: boolean }> {
  const entities = getEntities();
  const key = recordKey(state);
  const { data: record } = await entities.ingestRecords.get(key).go();
  if (!record) throw missingRecord(state);
  const { reason, message } = state.quarantine;
  const changed = await markFailed(entities, key, { code: reason, message });
  if (changed) {
    await countOutcome(record, { status: "FAILED_NORMALIZE", quarantineReason: reason });
    const eventType = eventTypeDimension(record.eventType, reason);
    emitMetric("normalizeFailed", { vendorId: state.vendorId, eventType, reason: reasonDimension(reason) });
  }
  const status = changed ? "FAILED_NORMALIZE" : record.status;
  logOutcome(record, status, { reason, changed });
  return { status, changed };
}
