import { GetObjectCommand } from "@aws-sdk/client-s3";
import { type Envelope, parseEnvelope } from "@dvss/core/envelope";
import { MissingRecordError } from "@dvss/core/errors";
import type { ObjectRef } from "@dvss/core/keys";
import type { NormalizedDocument } from "@dvss/core/normalized";
import type { MapResult } from "@dvss/core/workflow";
import { s3Client } from "./aws.ts";

/**
 * Reads of the archives in S3: a raw body or a normalized document, by reference (tasks pass
 * references, each reads what it needs; Map's result also carries a small normalized document).
 */

/** An object of the raw or normalized archive, as bytes; MissingRecordError when it is not there. */
export async function readObject(ref: ObjectRef): Promise<Buffer> {
  try {
    const object = await s3Client().send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return Buffer.from(
      await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
  } catch (error) {
    if ((error as Error).name === "NoSuchKey") {
      throw new MissingRecordError(`The object ${ref.key} is missing from ${ref.bucket}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/** The vendor's envelope, from the raw archive. */
export async function readRawEnvelope(rawRef: ObjectRef): Promise<Envelope> {
  return parseEnvelope(await readObject(rawRef));
}

/**
 * The normalized document of this state (written by Map, so already valid): the one Map's result
 * carries when it is small (CARRIED_DOCUMENT_MAX_BYTES), else read from the normalized archive by
 * its reference (a larger document, or the state of an execution older code started).
 */
export async function normalizedDocumentOf(normalized: MapResult): Promise<NormalizedDocument> {
  if (normalized.document) return normalized.document;
  return JSON.parse((await readObject(normalized.normalizedRef)).toString()) as NormalizedDocument;
}
