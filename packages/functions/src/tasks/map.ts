import { PutObjectCommand } from "@aws-sdk/client-s3";
import { normalizedKey } from "@dvss/core/keys";
import { sharedMappingPool } from "@dvss/core/mapping/isolation";
import { buildNormalizedDocument, type NormalizedDocument, normalizedBody } from "@dvss/core/normalized";
import { CARRIED_DOCUMENT_MAX_BYTES, type TaskInputs, type TaskResults } from "@dvss/core/workflow";
import { resourceName, s3Client } from "../lib/aws.ts";
import { vendorMatching } from "../lib/crosswalk.ts";
import { type DriftWatch, withDrift } from "../lib/drift.ts";
import { mappingEngine } from "../lib/mapping.ts";
import { readRawEnvelope } from "../lib/objects.ts";
import { inStage, taskHandler } from "../lib/task.ts";

// Mappings run in an evaluator process (isolation.ts): start it while the function initializes.
sharedMappingPool().prestart();

/**
 * Reads the raw object once, checks the payload against the vendor's schema for its version
 * (picking the version), maps it to a standard event and writes the normalized document at its
 * contract key. The key and the bytes derive from the ingestId and the raw body only, so a rerun
 * or a replay writes the same object. The result also carries the document itself when it is small
 * (CARRIED_DOCUMENT_MAX_BYTES), so Match and ApplyState need not read back what was just written;
 * the object is written all the same (it is the archive a replay compares with). It says too
 * whether Match has anything to do (lib/crosswalk.ts vendorMatching), so the workflow skips it for a
 * vendor whose identifiers are all their own canonical ids. A failure names
 * the step that failed (Validate, Map, WriteNormalized) for the quarantine. Whichever way it ends,
 * the payload is checked for drift (lib/drift.ts), which never fails the event.
 */
export const handler = taskHandler("Map", withDrift(map));

async function map(state: TaskInputs["Map"], drift: DriftWatch): Promise<TaskResults["Map"]> {
  const engine = mappingEngine();
  const { envelope, mappingVersion } = await inStage("Validate", async () => {
    const envelope = await readRawEnvelope(state.rawRef);
    drift.saw(envelope);
    return { envelope, ...(await engine.validatePayload(envelope)) };
  });
  const document = await inStage("Map", async () => {
    const mapped = await engine.mapEvent(envelope, mappingVersion);
    return buildNormalizedDocument({
      ingestId: state.ingestId,
      envelope,
      standardEventType: mapped.standardEventType,
      data: mapped.data,
      rawRef: state.rawRef,
    });
  });
  const normalizedRef = await inStage("WriteNormalized", async () => {
    const ref = {
      bucket: resourceName("NormalizedBucket"),
      key: normalizedKey(document.eventType, state.ingestId),
    };
    await s3Client().send(
      new PutObjectCommand({
        Bucket: ref.bucket,
        Key: ref.key,
        Body: normalizedBody(document),
        ContentType: "application/json",
      }),
    );
    return ref;
  });
  return {
    normalizedRef,
    standardEventType: document.eventType,
    mappingVersion,
    ...(carried(document) && { document }),
    needsMatch: await inStage("Match", async () => (await vendorMatching(state.vendorId)).needed),
  };
}

/** Whether the result carries the document itself: its JSON, as the state holds it, within the bound. */
const carried = (document: NormalizedDocument) =>
  Buffer.byteLength(JSON.stringify(document)) <= CARRIED_DOCUMENT_MAX_BYTES;
