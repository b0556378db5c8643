import type { ConflictingEvent } from "@dvss/core/ingest";
import { recordIdempotencyConflict as recordDivergence } from "@dvss/core/state/apply";
import { getEntities, logger } from "./aws.ts";
import { emitMetric } from "./metrics.ts";

/** A vendor reused an externalEventId for different content: the 409 tells the vendor, the divergence tells operators. */
export async function recordIdempotencyConflict(conflict: ConflictingEvent): Promise<void> {
  const { envelope, existing, incomingHash } = conflict;
  try {
    await recordDivergence(getEntities(), {
      vendorId: envelope.vendorId,
      externalEventId: envelope.externalEventId,
      ingestId: existing.ingestId,
      existingSha256: existing.payloadSha256,
      incomingSha256: incomingHash,
      rawKey: existing.rawKey,
      eventType: envelope.eventType,
      occurredAt: envelope.occurredAt,
    });
    emitMetric("divergenceCount", { kind: "IDEMPOTENCY_CONFLICT" });
    logger.info("divergence", { kinds: ["IDEMPOTENCY_CONFLICT"], receivedAt: existing.receivedAt });
  } catch (error) {
    // The vendor still gets its 409; losing the operator's note must not turn it into a 503.
    logger.error("idempotency conflict not recorded", { ingestId: existing.ingestId, error: error as Error });
  }
}
