import { describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./harness.ts";

const T0 = Date.parse("2026-02-01T10:00:00Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

// One warehouse/sku and one order, fed by two vendors (vendorA priority 10, vendorB priority 20).
const EVENTS = [
  {
    vendorId: "vendorA",
    externalEventId: "s-1",
    eventType: "inventory_update",
    occurredAt: at(0),
    payload: { sku: "P-1", qty: 10, warehouse: "ROA" },
  },
  {
    vendorId: "vendorB",
    externalEventId: "m-1",
    eventType: "stock_movement",
    occurredAt: at(10),
    schemaVersion: "1",
    payload: { item_code: "P-1", location: { code: "ROA" }, direction: "out", quantity: "3" },
  },
  {
    vendorId: "vendorA",
    externalEventId: "a-1",
    eventType: "inventory_adjust",
    occurredAt: at(20),
    payload: { sku: "P-1", qtyChange: 5, warehouse: "ROA" },
  },
  {
    vendorId: "vendorB",
    externalEventId: "s-2",
    eventType: "stock_snapshot",
    occurredAt: at(30),
    schemaVersion: "1",
    payload: { item_code: "P-1", on_hand: "20", location: { code: "ROA" } },
  },
  {
    vendorId: "vendorA",
    externalEventId: "a-2",
    eventType: "inventory_adjust",
    occurredAt: at(40),
    payload: { sku: "P-1", qtyChange: -2, warehouse: "ROA" },
  },
  {
    vendorId: "vendorA",
    externalEventId: "o-1",
    eventType: "order_created",
    occurredAt: at(0),
    payload: { orderId: "PO-1", warehouse: "ROA", lines: [{ sku: "P-1", qty: 2 }] },
  },
  {
    vendorId: "vendorB",
    externalEventId: "o-2",
    eventType: "order_state",
    occurredAt: at(30),
    schemaVersion: "1",
    payload: { order_ref: "PO-1", state: "dispatched" },
  },
  {
    vendorId: "vendorA",
    externalEventId: "o-3",
    eventType: "order_status",
    occurredAt: at(60),
    payload: { orderId: "PO-1", status: "picked" },
  },
];

const consumer = { authorization: "Bearer local-consumer-key" };

/** A seeded shuffle, so a failing order can be reproduced. */
function permutation<T>(items: T[], seed: number): T[] {
  const result = [...items];
  let state = seed;
  for (let i = result.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [result[i], result[j]] = [result[j] as T, result[i] as T];
  }
  return result;
}

async function postInOrder(dvss: Harness, events: typeof EVENTS): Promise<Map<string, string>> {
  const ingestIds = new Map<string, string>();
  for (const event of events) {
    const response = await dvss.post(event, { "x-api-key": `local-${event.vendorId}-key` });
    expect(response.status).toBe(202);
    ingestIds.set(event.externalEventId, response.body.ingestId);
    await dvss.runtime.stepFunctions.drain();
  }
  return ingestIds;
}

async function readWholeFeed(dvss: Harness) {
  const items: {
    cursor: string;
    entity: { type: string; key: string };
    version: number;
    event: { externalEventId: string };
  }[] = [];
  let after: string | undefined;
  for (let page = 0; page < 50; page++) {
    const query = after ? `?limit=3&after=${encodeURIComponent(after)}` : "?limit=3";
    const response = await dvss.request("GET", `/v1/feed${query}`, { headers: consumer });
    expect(response.status).toBe(200);
    items.push(...response.body.items);
    if (response.body.items.length === 0) break;
    after = response.body.next;
  }
  return items;
}

async function snapshot(dvss: Harness) {
  const inventory = await dvss.request("GET", "/v1/state/inventory/ROA/P-1", { headers: consumer });
  const order = await dvss.request("GET", "/v1/state/orders/PO-1", { headers: consumer });
  const feed = await readWholeFeed(dvss);
  const strip = (body: Record<string, unknown>) => ({ ...body, lastIngestId: undefined });
  return {
    inventory: strip(inventory.body),
    order: strip(order.body),
    // Which change got which version depends on arrival (versions count applied changes);
    // the set of changes per entity does not.
    changes: feed
      .map((item) => `${item.entity.type}:${item.entity.key}:${item.event.externalEventId}`)
      .sort(),
    feed,
  };
}

describe("canonical state through the pipeline", () => {
  it("is the same fold for any arrival order, and the feed carries each change exactly once", async () => {
    const results = [];
    for (const seed of [1, 7, 42]) {
      const dvss = await startHarness();
      try {
        await postInOrder(dvss, permutation(EVENTS, seed));
        results.push(await snapshot(dvss));
      } finally {
        await dvss.close();
      }
    }

    const [first, ...others] = results;
    // Snapshot 20 at +30 min, then -2 at +40: the adjustments before the snapshot do not count.
    expect(first?.inventory).toMatchObject({
      warehouseId: "ROA",
      sku: "P-1",
      quantityOnHand: 18,
      version: 5,
      asOf: at(40),
    });
    // SHIPPED (vendorB, +30) outranks PICKED (vendorA, +60): a regression is skipped.
    expect(first?.order).toMatchObject({
      orderId: "PO-1",
      status: "SHIPPED",
      lines: [{ sku: "P-1", quantity: 2 }],
      version: 3,
    });
    for (const other of others) {
      expect(other.inventory).toEqual(first?.inventory);
      expect(other.order).toEqual(first?.order);
      expect(other.changes).toEqual(first?.changes);
    }
    for (const result of results) {
      expect(new Set(result.feed.map((item) => item.cursor)).size).toBe(result.feed.length);
      expect(result.feed).toHaveLength(8);
      const versions = (type: string) =>
        result.feed.filter((item) => item.entity.type === type).map((item) => item.version);
      expect(versions("inventory")).toEqual([1, 2, 3, 4, 5]);
      expect(versions("order")).toEqual([1, 2, 3]);
    }
  });

  it("adds no version and no feed item when an event is replayed, and records divergences", async () => {
    const dvss = await startHarness();
    try {
      const ingestIds = await postInOrder(dvss, EVENTS);
      const before = await snapshot(dvss);
      const ingestId = ingestIds.get("a-1") ?? "";

      await dvss.rerun(ingestId);
      const conflict = await dvss.post({ ...EVENTS[0], payload: { sku: "P-1", qty: 11, warehouse: "ROA" } });

      const after = await snapshot(dvss);
      expect(after.inventory).toEqual(before.inventory);
      expect(after.feed).toEqual(before.feed);
      expect(conflict.status).toBe(409);
      const regression = await dvss.entities.divergences.query
        .byIngestId({ ingestId: ingestIds.get("o-3") ?? "" })
        .go();
      expect(regression.data.map((divergence) => divergence.kind)).toContain("STATUS_REGRESSION");
      const conflicts = await dvss.entities.divergences.query.byKind({ kind: "IDEMPOTENCY_CONFLICT" }).go();
      expect(conflicts.data).toEqual([
        expect.objectContaining({
          vendorId: "vendorA",
          externalEventId: "s-1",
          ingestId: ingestIds.get("s-1"),
        }),
      ]);
      const event = await dvss.request("GET", `/v1/events/${ingestIds.get("o-3")}`, {
        headers: { "x-api-key": "local-vendorA-key" },
      });
      expect(event.body.status).toBe("NORMALIZED");
    } finally {
      await dvss.close();
    }
  });

  it("gives an equal-time tie to the preferred vendor (vendorA, priority 10, over vendorB, 20) in both arrival orders", async () => {
    const fromA = {
      vendorId: "vendorA",
      externalEventId: "tie-a",
      eventType: "inventory_update",
      occurredAt: at(0),
      payload: { sku: "P-1", qty: 10, warehouse: "ROA" },
    };
    const fromB = {
      vendorId: "vendorB",
      externalEventId: "tie-b",
      eventType: "stock_snapshot",
      occurredAt: at(0),
      schemaVersion: "1",
      payload: { item_code: "P-1", on_hand: "20", location: { code: "ROA" } },
    };
    for (const arrivals of [
      [fromA, fromB],
      [fromB, fromA],
    ]) {
      const dvss = await startHarness();
      try {
        await postInOrder(dvss, arrivals as typeof EVENTS);
        const inventory = await dvss.request("GET", "/v1/state/inventory/ROA/P-1", { headers: consumer });

        expect(inventory.body).toMatchObject({ quantityOnHand: 10, sourceVendorId: "vendorA", version: 2 });
      } finally {
        await dvss.close();
      }
    }
  });

  it("refuses vendor keys on the consumer API and answers 404 for unknown entities", async () => {
    const dvss = await startHarness();
    try {
      const withVendorKey = await dvss.request("GET", "/v1/feed", {
        headers: { authorization: "Bearer local-vendorA-key" },
      });
      const unknown = await dvss.request("GET", "/v1/state/orders/NOPE", { headers: consumer });
      const badLimit = await dvss.request("GET", "/v1/feed?limit=0", { headers: consumer });
      const empty = await dvss.request("GET", "/v1/feed", { headers: consumer });

      expect(withVendorKey.status).toBe(403);
      expect(unknown).toMatchObject({ status: 404, body: { error: { code: "NOT_FOUND" } } });
      expect(badLimit).toMatchObject({ status: 400, body: { error: { code: "BAD_REQUEST" } } });
      expect(empty.body.items).toEqual([]);
      const again = await dvss.request("GET", `/v1/feed?after=${encodeURIComponent(empty.body.next)}`, {
        headers: consumer,
      });
      expect(again.body).toEqual({ items: [], next: empty.body.next });
    } finally {
      await dvss.close();
    }
  });

  it("keeps W + B#sku_C and W#sku_B + C as two entities through the pipeline: both normalized, nothing quarantined", async () => {
    const dvss = await startHarness();
    try {
      const pairs = [
        ["k-1", "W", "B#sku_C", 5],
        ["k-2", "W#sku_B", "C", 7],
      ] as const;
      for (const [externalEventId, warehouse, sku, qty] of pairs) {
        const posted = await dvss.post({
          vendorId: "vendorA",
          externalEventId,
          eventType: "inventory_update",
          occurredAt: at(0),
          payload: { sku, qty, warehouse },
        });
        expect(posted.status).toBe(202);
        await dvss.runtime.stepFunctions.drain();
      }

      for (const [, warehouse, sku, qty] of pairs) {
        const path = `/v1/state/inventory/${encodeURIComponent(warehouse)}/${encodeURIComponent(sku)}`;
        const state = await dvss.request("GET", path, { headers: consumer });
        expect(state.body).toMatchObject({ warehouseId: warehouse, sku, quantityOnHand: qty, version: 1 });
      }
      expect((await dvss.entities.quarantine.scan.go()).data).toEqual([]);
      expect((await dvss.records()).map((record) => record.status)).toEqual(["NORMALIZED", "NORMALIZED"]);
    } finally {
      await dvss.close();
    }
  });
});
