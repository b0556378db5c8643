import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { MissingRecordError } from "@dvss/core/errors";
import { markFailed, markNormalized, resolveQuarantine } from "@dvss/core/outcomes";
import { getEntities, metrics } from "../lib/runtime.ts";
import { taskHandler } from "../lib/task.ts";

/**
 * Moves the record to its final status (state.outcome) with a conditional write. Leaving RECEIVED
 * also takes the record out of the reconciler's pending index.
 */
export const handler = taskHandler(
  "UpdateStatus",
  async (state) => {
    const entities = getEntities();
    const key = { vendorId: state.vendorId, externalEventId: state.externalEventId };
    const missing = () =>
      new MissingRecordError(`No ingest record for ${state.vendorId}/${state.externalEventId}`);
    if (state.outcome === "NORMALIZED") {
      // The write answers with the record as it was: no read before it.
      const before = await markNormalized(entities, key, state.normalized);
      if (!before) throw missing();
      // Only a record that had failed can have a quarantine entry to resolve: no read otherwise.
      if (before.status === "FAILED_NORMALIZE") await resolveQuarantine(entities, state.ingestId);
      metrics.addMetric("dvss.normalize.success", MetricUnit.Count, 1);
      metrics.addMetric(
        "dvss.pipeline.latency_ms",
        MetricUnit.Milliseconds,
        Date.now() - Date.parse(before.receivedAt),
      );
      return { status: state.outcome, changed: true };
    }
    const { data: record } = await entities.ingestRecords.get(key).go();
    if (!record) throw missing();
    const { reason, message } = state.quarantine;
    const changed = await markFailed(entities, key, { code: reason, message });
    metrics.addMetric("dvss.normalize.failed", MetricUnit.Count, 1);
    return { status: changed ? state.outcome : record.status, changed };
  },
  { emitsMetrics: true },
);
