import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { StartExecutionCommand } from "@aws-sdk/client-sfn";
import { admitVendorPost, apiKeyFromHeaders, authenticate } from "@dvss/core/auth";
import { type IngestPorts, ingestEvent } from "@dvss/core/ingest";
import { VendorRateLimiter } from "@dvss/core/rate-limit";
import { recordIdempotencyConflict } from "../lib/conflicts.ts";
import { headersOf, httpHandler, json, rawBody, requireJsonContentType } from "../lib/http.ts";
import {
  getEntities,
  logger,
  metrics,
  resourceName,
  s3Client,
  sfnClient,
  stateMachineArn,
} from "../lib/runtime.ts";

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

/** POST /v1/events: docs/architecture steps 1–6. */
export const handler = httpHandler(
  async (event) => {
    const started = Date.now();
    let result: Awaited<ReturnType<typeof ingestEvent>>;
    try {
      const headers = headersOf(event);
      const body = rawBody(event);
      const principal = await authenticate(getEntities(), apiKeyFromHeaders(headers));
      admitVendorPost(principal, { headers, body }, rateLimiter);
      requireJsonContentType(event);
      result = await ingestEvent(ingestPorts(), principal, body);
    } catch (error) {
      const code = (error as { code?: string }).code;
      const validation = code === "INVALID_ENVELOPE" || code === "INVALID_JSON";
      // Every refused request is counted; the ones a vendor must fix in its payloads separately.
      metrics.addMetric(
        validation ? "dvss.ingest.failed_validation" : "dvss.ingest.rejected",
        MetricUnit.Count,
        1,
      );
      throw error;
    }
    const { envelope } = result;
    logger.appendKeys({
      ingestId: result.ingestId,
      vendorId: envelope.vendorId,
      externalEventId: envelope.externalEventId,
    });
    metrics.addMetric(
      result.status === "ACCEPTED" ? "dvss.ingest.accepted" : "dvss.ingest.duplicate",
      MetricUnit.Count,
      1,
    );
    metrics.addMetric("dvss.pipeline.latency_ms", MetricUnit.Milliseconds, Date.now() - started);
    logger.info(result.status === "ACCEPTED" ? "event accepted" : "duplicate event");
    return json(202, { status: result.status, ingestId: result.ingestId });
  },
  { emitsMetrics: true },
);
