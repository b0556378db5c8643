import type { IdempotencyConflict } from "@dvss/core/ingest";
import { logger } from "./runtime.ts";

/** A vendor reused an externalEventId for different content: the 409 tells the vendor, this tells operators. */
export async function recordIdempotencyConflict(conflict: IdempotencyConflict): Promise<void> {
  logger.warn("idempotency conflict", {
    vendorId: conflict.envelope.vendorId,
    externalEventId: conflict.envelope.externalEventId,
    ingestId: conflict.existing.ingestId,
    existingSha256: conflict.existing.payloadSha256,
    incomingSha256: conflict.incomingHash,
  });
}
