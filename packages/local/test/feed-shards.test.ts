import { afterEach, describe, expect, it } from "vitest";
import { startHarness } from "./harness.ts";

const consumer = { authorization: "Bearer local-consumer-key" };

afterEach(() => {
  delete process.env.DVSS_FEED_SHARDS;
});

describe("the local runtime with DVSS_FEED_SHARDS=4", () => {
  it("spreads changes over four shards, serves them once each with a base64url cursor, and refuses a bad one naming after", async () => {
    process.env.DVSS_FEED_SHARDS = "4";
    const dvss = await startHarness();
    try {
      const skus = Array.from({ length: 12 }, (_, i) => `SH-${i}`);
      for (const [i, sku] of skus.entries()) {
        const posted = await dvss.post({
          vendorId: "vendorA",
          externalEventId: `shard-${i}`,
          eventType: "inventory_update",
          occurredAt: "2026-02-01T10:00:00Z",
          payload: { sku, qty: i, warehouse: "SHD" },
        });
        expect(posted.status).toBe(202);
      }
      await dvss.runtime.stepFunctions.drain();

      const first = await dvss.request("GET", "/v1/feed?limit=5", { headers: consumer });
      const rest = await dvss.request("GET", `/v1/feed?limit=500&after=${first.body.next}`, {
        headers: consumer,
      });
      const legacy = await dvss.request("GET", "/v1/feed?after=0000000000000000", { headers: consumer });
      const bad = await dvss.request("GET", "/v1/feed?after=NDIuMC4w!", { headers: consumer });
      const { data: counters } = await dvss.entities.outboxSequence.scan.go({ pages: "all" });

      const keys = [...first.body.items, ...rest.body.items].map(
        (item: { entity: { key: string } }) => item.entity.key,
      );
      expect(keys.sort()).toEqual(skus.map((sku) => `SHD#${sku}`).sort());
      expect(first.body.next).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(first.body.next, "base64url").toString().split(".")).toHaveLength(4);
      expect(counters.map((counter) => counter.sequenceOf).sort()).toEqual([
        "feed#0",
        "feed#1",
        "feed#2",
        "feed#3",
      ]);
      expect(legacy.status).toBe(200);
      expect(legacy.body.items).toHaveLength(12);
      expect(bad).toMatchObject({
        status: 400,
        body: { error: { code: "BAD_REQUEST", details: [{ path: "after" }] } },
      });
    } finally {
      await dvss.close();
    }
  });
});
