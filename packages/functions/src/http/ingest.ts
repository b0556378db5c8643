import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { StartExecutionCommand } from "@aws-sdk/client-sfn";
import { admitVendorPost, apiKeyFromHeaders, authenticate, type Principal } from "@dvss/core/auth";
import { isRejectionCode } from "@dvss/core/entities/scorecard";
import { DvssError } from "@dvss/core/errors";
import { explainFailure } from "@dvss/core/failures";
import { type IngestPorts, ingestEvent } from "@dvss/core/ingest";
import { rawKey } from "@dvss/core/keys";
import { LATENCY_STAGES, reasonDimension } from "@dvss/core/metrics";
import { VendorRateLimiter } from "@dvss/core/rate-limit";
import {
  addToScorecard,
  duplicateIncrement,
  RefusalTally,
  refusalWriteIntervalMs,
  rejectionIncrement,
  utcDay,
} from "@dvss/core/scorecard";
import { getEntities, logger, resourceName, s3Client, sfnClient, stateMachineArn } from "../lib/aws.ts";
import { recordIdempotencyConflict } from "../lib/conflicts.ts";
import { headersOf, httpHandler, json, rawBody, requireJsonContentType } from "../lib/http.ts";
import { emitMetric } from "../lib/metrics.ts";

const rateLimiter = new VendorRateLimiter();
/** Built per request from the container's cached clients, so it never outlives them. */
function ingestPorts(): IngestPorts {
  return {
    entities: getEntities(),
    rawBucket: resourceName("RawBucket"),
    async putRawObject(key, body) {
      await s3Client().send(
        new PutObjectCommand({
          Bucket: resourceName("RawBucket"),
          Key: key,
          Body: body,
          ContentType: "application/json",
          IfNoneMatch: "*",
          // The raw bucket has Object Lock with a default retention in production: S3 refuses a
          // PutObject there without a checksum, and the client computes none unless asked.
          ChecksumAlgorithm: "CRC32",
        }),
      );
    },
    async deleteRawObject(key) {
      await s3Client().send(new DeleteObjectCommand({ Bucket: resourceName("RawBucket"), Key: key }));
    },
    async startExecution(input, executionName) {
      await sfnClient().send(
        new StartExecutionCommand({
          stateMachineArn: stateMachineArn(),
          name: executionName,
          input: JSON.stringify(input),
        }),
      );
    },
    onConflict: (conflict) => recordIdempotencyConflict(conflict),
    log: { warn: (message, extra) => logger.warn(message, extra ?? {}) },
  };
}

/** Refusals a vendor fixes in what it sends: counted per vendor as dvss.ingest.failed_validation. */
const VALIDATION_CODES: readonly string[] = [
  "INVALID_JSON",
  "INVALID_ENVELOPE",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
];

/** Counts a refused post: per vendor when an authenticated vendor's body was at fault, else by reason only. */
function countRefusal(error: unknown, principal: Principal | undefined): void {
  const failure = explainFailure(error);
  const reason = reasonDimension(failure instanceof DvssError ? failure.code : "INTERNAL");
  if (principal?.role === "vendor" && VALIDATION_CODES.includes(reason)) {
    emitMetric("ingestFailedValidation", { vendorId: principal.vendorId, reason });
  } else {
    emitMetric("ingestRejected", { reason });
  }
}

const scorecardLog = {
  warn: (message: string, extra?: Record<string, unknown>) => logger.warn(message, extra ?? {}),
};

const refusals = new RefusalTally();

/** An authenticated vendor's refused post, held for its scorecard of today (docs/spec/scorecard.md). */
function tallyRefusal(error: unknown, principal: Principal | undefined): void {
  const failure = explainFailure(error);
  if (principal?.role !== "vendor" || !(failure instanceof DvssError) || !isRejectionCode(failure.code))
    return;
  refusals.add(principal.vendorId, utcDay(new Date()), rejectionIncrement(failure.code), Date.now());
}

/** Writes the refusals held for a window, if any: at most one write per vendor-day per window. */
async function flushRefusals(): Promise<void> {
  for (const { vendorId, day, increment } of refusals.takeDue(Date.now(), refusalWriteIntervalMs())) {
    await addToScorecard(getEntities(), vendorId, day, increment, scorecardLog);
  }
}

/** POST /v1/events: docs/architecture steps 1–6. */
export const handler = httpHandler(async (event) => {
  const started = Date.now();
  let principal: Principal | undefined;
  let result: Awaited<ReturnType<typeof ingestEvent>>;
  try {
    const headers = headersOf(event);
    const body = rawBody(event);
    principal = await authenticate(getEntities(), apiKeyFromHeaders(headers));
    admitVendorPost(principal, { headers, body }, rateLimiter);
    requireJsonContentType(event);
    result = await ingestEvent(ingestPorts(), principal, body);
  } catch (error) {
    countRefusal(error, principal);
    tallyRefusal(error, principal);
    await flushRefusals();
    throw error;
  }
  await flushRefusals();
  const { envelope, ingestId, status } = result;
  logger.appendKeys({ ingestId, vendorId: envelope.vendorId, externalEventId: envelope.externalEventId });
  const latencyMs = Date.now() - started;
  emitMetric(status === "ACCEPTED" ? "ingestAccepted" : "ingestDuplicate", { vendorId: envelope.vendorId });
  // Accepted events are counted at their outcome (UpdateStatus), so an accepted post costs no write here.
  if (status === "DUPLICATE") {
    const today = utcDay(new Date());
    await addToScorecard(getEntities(), envelope.vendorId, today, duplicateIncrement(), scorecardLog);
  }
  emitMetric("pipelineLatency", { stage: LATENCY_STAGES.ingest }, latencyMs);
  if (status === "ACCEPTED") {
    logger.info("event accepted", { status, rawS3Key: rawKey(envelope.vendorId, ingestId), latencyMs });
  } else {
    logger.info("duplicate event", { status, latencyMs });
  }
  return json(202, { status, ingestId });
});
