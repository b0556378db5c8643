import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { MissingRecordError } from "@dvss/core/errors";
import { markFailed, markNormalized, type NormalizedOutcome, resolveQuarantine } from "@dvss/core/outcomes";
import type { Outcome } from "@dvss/core/workflow";
import { getEntities, metrics } from "../lib/runtime.ts";
import { taskHandler } from "../lib/task.ts";

/**
 * Moves the record to its final status (state.outcome) with a conditional write. Leaving RECEIVED
 * also takes the record out of the reconciler's pending index.
 */
export const handler = taskHandler(
  async (state) => {
    const outcome: Outcome = state.outcome ?? "NORMALIZED";
    const entities = getEntities();
    const key = { vendorId: state.vendorId, externalEventId: state.externalEventId };
    const { data: record } = await entities.ingestRecords.get(key).go();
    if (!record)
      throw new MissingRecordError(`No ingest record for ${state.vendorId}/${state.externalEventId}`);
    if (outcome === "NORMALIZED") {
      await markNormalized(entities, key, state.normalized as NormalizedOutcome);
      // Only a record that had failed can have a quarantine entry to resolve: no read otherwise.
      if (record.status === "FAILED_NORMALIZE") await resolveQuarantine(entities, state.ingestId);
      metrics.addMetric("dvss.normalize.success", MetricUnit.Count, 1);
      metrics.addMetric(
        "dvss.pipeline.latency_ms",
        MetricUnit.Milliseconds,
        Date.now() - Date.parse(record.receivedAt),
      );
      return { status: outcome, changed: true };
    }
    const quarantine = state.quarantine as { reason: string; message: string };
    const changed = await markFailed(entities, key, { code: quarantine.reason, message: quarantine.message });
    metrics.addMetric("dvss.normalize.failed", MetricUnit.Count, 1);
    return { status: changed ? outcome : record.status, changed };
  },
  { emitsMetrics: true },
);
