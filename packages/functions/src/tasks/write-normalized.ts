import { PutObjectCommand } from "@aws-sdk/client-s3";
import { sharedMappingPool } from "@dvss/core/mapping/isolation";
import { buildNormalizedDocument, serializeNormalized } from "@dvss/core/normalized";
import { mappingEngine, readRawEnvelope } from "../lib/events.ts";
import { resourceName, s3Client } from "../lib/runtime.ts";
import { taskHandler } from "../lib/task.ts";

// Mappings run in an evaluator process (isolation.ts): start it while the function initializes.
sharedMappingPool().prestart();

/**
 * Writes the standard event at its contract key. The key and the bytes derive from the ingestId
 * and the raw body only, so a rerun or a replay writes the same object.
 */
export const handler = taskHandler(async (state) => {
  const { mappingVersion, normalizedKey } = state.mapping as {
    mappingVersion: string;
    normalizedKey: string;
  };
  const envelope = await readRawEnvelope(state.rawRef);
  const mapped = await mappingEngine().mapEvent(envelope, mappingVersion);
  const document = buildNormalizedDocument({
    ingestId: state.ingestId,
    envelope,
    standardEventType: mapped.standardEventType,
    data: mapped.data,
    rawRef: state.rawRef,
  });
  const normalizedRef = { bucket: resourceName("NormalizedBucket"), key: normalizedKey };
  await s3Client().send(
    new PutObjectCommand({
      Bucket: normalizedRef.bucket,
      Key: normalizedRef.key,
      Body: serializeNormalized(document),
      ContentType: "application/json",
    }),
  );
  return { normalizedRef, standardEventType: mapped.standardEventType, mappingVersion };
});
