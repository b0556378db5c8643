import { HeadBucketCommand } from "@aws-sdk/client-s3";
import { StorageUnavailableError } from "@dvss/core/errors";
import { getEntities, resourceName, s3Client } from "../lib/aws.ts";
import { httpHandler, json } from "../lib/http.ts";

/** GET /healthz: ok only when the stores the ingest path needs answer. */
export const handler = httpHandler(async () => {
  try {
    await Promise.all([
      getEntities().vendors.get({ vendorId: "__healthz__" }).go(),
      s3Client().send(new HeadBucketCommand({ Bucket: resourceName("RawBucket") })),
    ]);
  } catch (cause) {
    throw new StorageUnavailableError("A store did not answer", { cause });
  }
  return json(200, { status: "ok" });
});
