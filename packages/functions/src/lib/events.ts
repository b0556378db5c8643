import { join } from "node:path";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { type Envelope, parseEnvelope } from "@dvss/core/envelope";
import { MissingRecordError } from "@dvss/core/errors";
import type { ObjectRef } from "@dvss/core/keys";
import { createMappingEngine, type MappingEngine } from "@dvss/core/mapping/engine";
import { createFileSystemSource } from "@dvss/core/mapping/fs-source";
import { s3Client } from "./runtime.ts";

let engine: MappingEngine | undefined;

/** The container's mapping engine: definitions bundled with the function, compiled once per version. */
export function mappingEngine(): MappingEngine {
  engine ??= createMappingEngine({
    source: createFileSystemSource(process.env.DVSS_VENDORS_DIR ?? join(process.cwd(), "schemas/vendors")),
  });
  return engine;
}

/** For the local runtime: definitions were edited or published while it runs. */
export function resetMappingEngine(): void {
  engine = undefined;
}

export async function readObject(ref: ObjectRef): Promise<Buffer> {
  try {
    const object = await s3Client().send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return Buffer.from(
      await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
  } catch (error) {
    if ((error as Error).name === "NoSuchKey") {
      throw new MissingRecordError(`The raw object ${ref.key} is missing from ${ref.bucket}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/** The vendor's envelope, from the raw archive: tasks pass references, each reads what it needs. */
export async function readRawEnvelope(rawRef: ObjectRef): Promise<Envelope> {
  return parseEnvelope(await readObject(rawRef));
}
