import { decodeTaskFailure } from "@dvss/core/failures";
import { reasonDimension } from "@dvss/core/metrics";
import { recordQuarantine } from "@dvss/core/outcomes";
import { getEntities, logger } from "../lib/aws.ts";
import { emitMetric } from "../lib/metrics.ts";
import { taskHandler } from "../lib/task.ts";

/**
 * Records why an event could not be normalized: stage, reason code, error, field details, raw key.
 * The stage is the step the failed task reported (Map's Validate, Map or WriteNormalized), else
 * the task the Catch names.
 */
export const handler = taskHandler("Quarantine", async (state) => {
  const entities = getEntities();
  const errorName = state.error.Error;
  const failure = decodeTaskFailure(errorName, state.error.Cause);
  const { data: record } = await entities.ingestRecords
    .get({ vendorId: state.vendorId, externalEventId: state.externalEventId })
    .go();
  await recordQuarantine(entities, {
    ingestId: state.ingestId,
    vendorId: state.vendorId,
    externalEventId: state.externalEventId,
    eventType: record?.eventType,
    stage: failure.stage ?? state.failure.stage,
    reason: failure.code,
    errorName,
    message: failure.message,
    details: failure.details,
    rawRef: state.rawRef,
    attempts: record?.attempts ?? 1,
  });
  emitMetric("quarantineCount", { reason: reasonDimension(failure.code) });
  logger.info("quarantined", { reason: failure.code });
  return { reason: failure.code, message: failure.message };
});
