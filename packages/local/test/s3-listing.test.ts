import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, seedEnvelope, startHarness } from "./harness.ts";

let dvss: Harness;
beforeAll(async () => {
  dvss = await startHarness();
});
afterAll(async () => {
  await dvss?.close();
});

describe("the local S3's listings", () => {
  it("page through a prefix with continuation tokens (s3rver mints them with DES, gone from OpenSSL 3)", async () => {
    for (const i of [1, 2, 3]) {
      const response = await dvss.post({ ...seedEnvelope, externalEventId: `listing-${i}` });
      expect(response.status).toBe(202);
    }

    const keys: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await dvss.s3.send(
        new ListObjectsV2Command({
          Bucket: dvss.endpoints.buckets.RawBucket,
          Prefix: "raw/vendorA/",
          MaxKeys: 1,
          ...(token && { ContinuationToken: token }),
        }),
      );
      keys.push(...(page.Contents ?? []).map((object) => object.Key ?? ""));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      pages += 1;
    } while (token);

    expect(keys).toHaveLength(3);
    expect([...keys].sort()).toEqual(keys);
    expect(pages).toBe(3);
  });
});
