import { apiKeyFromHeaders, authenticate, requireRole } from "@dvss/core/auth";
import { findIngestRecord } from "@dvss/core/entities/ingest-record";
import { NotFoundError } from "@dvss/core/errors";
import { getEntities } from "../lib/aws.ts";
import { headersOf, httpHandler, json } from "../lib/http.ts";

/**
 * Failures of DVSS itself, not of the vendor's data: the vendor sees the code, and a fixed text in
 * place of the stored message (it may name accounts, roles, resources or code paths).
 */
const OPERATOR_ONLY_MESSAGES: Partial<Record<string, string>> = {
  ACCESS_DENIED:
    "DVSS could not process this event because of a configuration error on its side, not because of its content; the event is kept in quarantine for the operators.",
  INTERNAL:
    "DVSS could not process this event because of an internal error, not because of its content; the event is kept in quarantine for the operators.",
  UNAVAILABLE:
    "DVSS could not process this event because a store did not answer, not because of its content; the event is kept in quarantine for the operators.",
};

/** What a vendor is told of its failed event. */
function vendorError({ code, message }: { code?: string | undefined; message?: string | undefined }) {
  return { code, message: (code && OPERATOR_ONLY_MESSAGES[code]) ?? message };
}

/** GET /v1/events/{ingestId}: a vendor sees only its own events; anything else is simply not found. */
export const handler = httpHandler(async (event) => {
  // No signature is checked here: the signing secrets are the ingest function's alone.
  const principal = await authenticate(getEntities(), apiKeyFromHeaders(headersOf(event)), Date.now(), {
    signingSecrets: false,
  });
  requireRole(principal, "vendor");
  const ingestId = event.pathParameters?.ingestId ?? "";
  const record = await findIngestRecord(getEntities().ingestRecords, ingestId);
  if (!record || record.vendorId !== principal.vendorId) {
    throw new NotFoundError(`No event ${ingestId} for vendor ${principal.vendorId}`);
  }
  return json(200, {
    ingestId: record.ingestId,
    vendorId: record.vendorId,
    externalEventId: record.externalEventId,
    eventType: record.eventType,
    status: record.status,
    receivedAt: record.receivedAt,
    rawRef: { bucket: record.rawBucket, key: record.rawKey },
    ...(record.normalizedKey &&
      record.normalizedBucket && {
        normalizedRef: { bucket: record.normalizedBucket, key: record.normalizedKey },
      }),
    ...(record.status === "FAILED_NORMALIZE" && record.lastError && { error: vendorError(record.lastError) }),
  });
});
