import { apiKeyFromHeaders, authenticate, requireRole } from "@dvss/core/auth";
import { NotFoundError } from "@dvss/core/errors";
import { headersOf, httpHandler, json } from "../lib/http.ts";
import { getEntities } from "../lib/runtime.ts";

/** GET /v1/events/{ingestId}: a vendor sees only its own events; anything else is simply not found. */
export const handler = httpHandler(async (event) => {
  const principal = await authenticate(getEntities(), apiKeyFromHeaders(headersOf(event)));
  requireRole(principal, "vendor");
  const ingestId = event.pathParameters?.ingestId ?? "";
  const { data } = await getEntities().ingestRecords.query.byIngestId({ ingestId }).go({ limit: 1 });
  const record = data[0];
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
    ...(record.status === "FAILED_NORMALIZE" &&
      record.lastError && { error: { code: record.lastError.code, message: record.lastError.message } }),
  });
});
