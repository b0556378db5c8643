import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Entities } from "../src/entities/index.ts";
import { applyStateChange } from "../src/state/apply.ts";
import { inventoryKey } from "../src/state/inventory.ts";
import { getInventoryState, readFeed } from "../src/state/read.ts";
import { at, inventoryUpdated } from "./state-events.ts";
import { startTestStores } from "./stores.ts";

describe("entity keys", () => {
  it("keep ids without # or % as they were: <warehouseId>#<sku>", () => {
    expect(inventoryKey("ROA", "ABC-001")).toBe("ROA#ABC-001");
  });

  it("tell W + x#y from W#x + y", () => {
    expect(inventoryKey("W", "x#y")).not.toBe(inventoryKey("W#x", "y"));
    expect(inventoryKey("W", "B#sku_C")).not.toBe(inventoryKey("W#sku_B", "C"));
  });

  it("never give two (warehouseId, sku) pairs one key: each way of splitting one text has its own", () => {
    // "a#b#c" is ("a", "b#c") or ("a#b", "c"): the pairs most likely to collide.
    const part = fc.string({ unit: fc.constantFrom("#", "%", "2", "3", "a"), maxLength: 4 });
    fc.assert(
      fc.property(fc.array(part, { minLength: 2, maxLength: 5 }), (parts) => {
        const keys = parts
          .slice(1)
          .map((_, i) => inventoryKey(parts.slice(0, i + 1).join("#"), parts.slice(i + 1).join("#")));
        expect(new Set(keys).size).toBe(keys.length);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe("state items of ids that share their text", () => {
  let stores: Awaited<ReturnType<typeof startTestStores>>;
  let entities: Entities;

  beforeAll(async () => {
    stores = await startTestStores("keys-test");
    entities = stores.entities;
  });

  afterAll(() => stores?.close());

  const options = { vendorPriority: 10, mappingVersion: "1" };

  it("keeps W + B#sku_C and W#sku_B + C apart: each event applies to its own entity", async () => {
    const first = inventoryUpdated(5, { occurredAt: at(0) }, "W", "B#sku_C");
    const second = inventoryUpdated(7, { occurredAt: at(1) }, "W#sku_B", "C");

    const results = [
      await applyStateChange(entities, first, options),
      await applyStateChange(entities, second, options),
    ];

    expect(results.map((result) => [result.outcome, result.version])).toEqual([
      ["APPLIED", 1],
      ["APPLIED", 1],
    ]);
    expect(results[0]?.entity.key).not.toBe(results[1]?.entity.key);
    expect(await getInventoryState(entities, "W", "B#sku_C")).toMatchObject({
      warehouseId: "W",
      sku: "B#sku_C",
      quantityOnHand: 5,
      lastIngestId: first.ingestId,
    });
    expect(await getInventoryState(entities, "W#sku_B", "C")).toMatchObject({
      warehouseId: "W#sku_B",
      sku: "C",
      quantityOnHand: 7,
      lastIngestId: second.ingestId,
    });
    const feed = await readFeed(entities, { limit: 10, gapGraceMs: 0 });
    expect(feed.items.map((item) => item.entity)).toEqual([
      { type: "inventory", key: "W#B%23sku_C" },
      { type: "inventory", key: "W%23sku_B#C" },
    ]);
  });

  it("keeps an escaped-looking id apart from the id it looks like", async () => {
    await applyStateChange(entities, inventoryUpdated(1, { occurredAt: at(0) }, "V", "a%23b"), options);
    await applyStateChange(entities, inventoryUpdated(2, { occurredAt: at(0) }, "V", "a#b"), options);

    expect((await getInventoryState(entities, "V", "a%23b")).quantityOnHand).toBe(1);
    expect((await getInventoryState(entities, "V", "a#b")).quantityOnHand).toBe(2);
  });

  it("writes no ingest record under a vendorId that could forge a key (one with #)", async () => {
    const record = {
      vendorId: "vendorA#externalEventId_x",
      externalEventId: "y",
      ingestId: "01KG7C0000000000000000000A",
      eventType: "inventory_update",
      occurredAt: at(0),
      receivedAt: at(0),
      rawBucket: "raw",
      rawKey: "raw/x",
      payloadSha256: "0",
      status: "RECEIVED" as const,
    };

    await expect(entities.ingestRecords.create(record).go()).rejects.toThrow(/vendorId/);
  });
});
