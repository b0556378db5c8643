import { CreateBucketCommand, DeleteBucketCommand } from "@aws-sdk/client-s3";
import { readCallCounts } from "@dvss/local/call-counts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, seedEnvelope, startHarness } from "./harness.ts";

/**
 * Map validates, maps and writes in one task; a failure of its last step is quarantined as
 * WriteNormalized, the stage operators know it by (Validate and Map: normalize.test.ts).
 */

let dvss: Harness;
beforeAll(async () => {
  dvss = await startHarness();
});
afterAll(async () => {
  await dvss?.close();
});

describe("a normalized document that cannot be written", () => {
  it("is quarantined at stage WriteNormalized, once, having read the raw object once", async () => {
    const bucket = dvss.endpoints.buckets.NormalizedBucket;
    const rawGets = async () =>
      (await readCallCounts(dvss.endpoints.s3))[`GetObject ${dvss.endpoints.buckets.RawBucket}`] ?? 0;
    await dvss.s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    const before = await rawGets();
    try {
      const response = await dvss.post({ ...seedEnvelope, externalEventId: "no-normalized-bucket" });
      await dvss.runtime.stepFunctions.drain();

      const { data: entry } = await dvss.entities.quarantine.get({ ingestId: response.body.ingestId }).go();
      expect(entry).toMatchObject({
        stage: "WriteNormalized",
        reason: "INTERNAL",
        errorName: "NoSuchBucket",
      });
      expect((await rawGets()) - before).toBe(1);
    } finally {
      await dvss.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    }
  });
});
