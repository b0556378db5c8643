import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, seedEnvelope, startHarness } from "./harness.ts";

// The raw bucket is under Object Lock with a default retention in production; S3 then refuses a
// PutObject that carries neither Content-MD5 nor an x-amz-checksum-* header. The local S3 applies
// the same rule to the raw bucket, so a write that would fail in production fails here.
let dvss: Harness;
beforeAll(async () => {
  dvss = await startHarness();
});
afterAll(async () => {
  await dvss?.close();
});

describe("the raw bucket under Object Lock", () => {
  it("accepts an event: ingest's raw PutObject carries a checksum", async () => {
    const response = await dvss.post({ ...seedEnvelope, externalEventId: "lock-1" });

    expect(response.status).toBe(202);
    expect(response.body.status).toBe("ACCEPTED");
    expect((await dvss.rawKeys()).some((key) => key.includes(response.body.ingestId))).toBe(true);
  });

  it("refuses a PutObject without Content-MD5 or x-amz-checksum-* with 400 InvalidRequest, as S3 does", async () => {
    const { RawBucket, NormalizedBucket } = dvss.endpoints.buckets;
    const put = (Bucket: string, Key: string, checksum: boolean) =>
      dvss.s3.send(
        new PutObjectCommand({ Bucket, Key, Body: "{}", ...(checksum && { ChecksumAlgorithm: "CRC32" }) }),
      );

    const refused = await put(RawBucket, "raw/lock-test/no-checksum.json", false).catch(
      (error: Error) => error,
    );

    expect(refused).toMatchObject({
      name: "InvalidRequest",
      $metadata: { httpStatusCode: 400 },
      message: expect.stringContaining("Content-MD5 OR x-amz-checksum-"),
    });
    expect(await dvss.rawKeys()).not.toContain("raw/lock-test/no-checksum.json");
    await put(RawBucket, "raw/lock-test/crc32.json", true);
    await put(NormalizedBucket, "normalized/lock-test/any.json", false);
    expect(await dvss.rawKeys()).toContain("raw/lock-test/crc32.json");
  });
});
