import { MissingRecordError } from "@dvss/core/errors";
import { eventTypeDimension, LATENCY_STAGES, reasonDimension } from "@dvss/core/metrics";
import { type IngestRecordItem, markFailed, markNormalized, resolveQuarantine } from "@dvss/core/outcomes";
import { addToScorecard, outcomeIncrement, type RecordedOutcome, utcDay } from "@dvss/core/scorecard";
import { getEntities, logger } from "../lib/aws.ts";
import { emitMetric } from "../lib/metrics.ts";
import { taskHandler } from "../lib/task.ts";

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
  // The ingestId picks the part: a retried UpdateStatus adds to the part its first try did.
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

/**
 * Moves the record to its final status (state.outcome) with a conditional write. Leaving RECEIVED
 * also takes the record out of the reconciler's pending index.
 */
export const handler = taskHandler("UpdateStatus", async (state) => {
  const entities = getEntities();
  const key = { vendorId: state.vendorId, externalEventId: state.externalEventId };
  const missing = () =>
    new MissingRecordError(`No ingest record for ${state.vendorId}/${state.externalEventId}`);
  if (state.outcome === "NORMALIZED") {
    // The write answers with the record as it was: no read before it.
    const before = await markNormalized(entities, key, state.normalized);
    if (!before) throw missing();
    // Only a record that had failed can have a quarantine entry to resolve: no read otherwise.
    const quarantinedAt =
      before.status === "FAILED_NORMALIZE" ? await resolveQuarantine(entities, state.ingestId) : undefined;
    await countOutcome(before, {
      status: state.outcome,
      ...(quarantinedAt !== undefined && { quarantinedAt }),
      applied: state.applied,
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
    logOutcome(before, state.outcome);
    return { status: state.outcome, changed: true };
  }
  const { data: record } = await entities.ingestRecords.get(key).go();
  if (!record) throw missing();
  const { reason, message } = state.quarantine;
  const changed = await markFailed(entities, key, { code: reason, message });
  if (changed) {
    await countOutcome(record, { status: state.outcome, quarantineReason: reason });
    const eventType = eventTypeDimension(record.eventType, reason);
    emitMetric("normalizeFailed", { vendorId: state.vendorId, eventType, reason: reasonDimension(reason) });
  }
  const status = changed ? state.outcome : record.status;
  logOutcome(record, status, { reason, changed });
  return { status, changed };
});
