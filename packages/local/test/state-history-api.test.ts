import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./harness.ts";

const T0 = Date.parse("2026-02-01T10:00:00Z");
const DAY = 24 * 60;
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const consumer = { authorization: "Bearer local-consumer-key" };

// A snapshot, adjustments over three days, then one of day 2 that arrives last; an order.
const EVENTS = [
  {
    externalEventId: "h-s",
    eventType: "inventory_update",
    occurredAt: at(0),
    payload: { sku: "H-1", qty: 50, warehouse: "ROA" },
  },
  {
    externalEventId: "h-1",
    eventType: "inventory_adjust",
    occurredAt: at(DAY + 60),
    payload: { sku: "H-1", qtyChange: 5, warehouse: "ROA" },
  },
  {
    externalEventId: "h-2",
    eventType: "inventory_adjust",
    occurredAt: at(3 * DAY),
    payload: { sku: "H-1", qtyChange: -2, warehouse: "ROA" },
  },
  {
    externalEventId: "h-late",
    eventType: "inventory_adjust",
    occurredAt: at(DAY + 30),
    payload: { sku: "H-1", qtyChange: -7, warehouse: "ROA" },
  },
  {
    externalEventId: "o-c",
    eventType: "order_created",
    occurredAt: at(0),
    payload: { orderId: "HO-1", warehouse: "ROA", lines: [{ sku: "H-1", qty: 2 }] },
  },
  {
    externalEventId: "o-p",
    eventType: "order_status",
    occurredAt: at(60),
    payload: { orderId: "HO-1", status: "picked" },
  },
].map((event) => ({ vendorId: "vendorA", ...event }));

let dvss: Harness;
const ingestIds = new Map<string, string>();

beforeAll(async () => {
  dvss = await startHarness();
  for (const event of EVENTS) {
    const response = await dvss.post(event, { "x-api-key": "local-vendorA-key" });
    expect(response.status).toBe(202);
    ingestIds.set(event.externalEventId, response.body.ingestId);
    await dvss.runtime.stepFunctions.drain();
  }
}, 60_000);

afterAll(() => dvss?.close());

describe("GET /v1/state/...?asOf", () => {
  it("answers the state folded from the events up to asOf, and which events those are", async () => {
    const dayOne = await dvss.request(
      "GET",
      `/v1/state/inventory/ROA/H-1?asOf=${encodeURIComponent(at(DAY + 45))}`,
      { headers: consumer },
    );
    const now = await dvss.request("GET", "/v1/state/inventory/ROA/H-1", { headers: consumer });
    const order = await dvss.request("GET", `/v1/state/orders/HO-1?asOf=${encodeURIComponent(at(30))}`, {
      headers: consumer,
    });

    expect(now.body).toMatchObject({ quantityOnHand: 50 + 5 - 2 - 7, version: 4 });
    expect(dayOne.status).toBe(200);
    expect(dayOne.body).toMatchObject({
      quantityOnHand: 43,
      version: 2,
      lastIngestId: ingestIds.get("h-late"),
    });
    expect(dayOne.body.ingestIds).toEqual([ingestIds.get("h-s"), ingestIds.get("h-late")]);
    expect(order.body).toMatchObject({ status: "CREATED", version: 1, ingestIds: [ingestIds.get("o-c")] });
  });

  it("answers 400 BAD_REQUEST naming asOf for a date-time it cannot read, and 404 before the first event", async () => {
    for (const asOf of ["tomorrow", "2026-02-01", "2026-02-30T00:00:00Z", ""]) {
      const response = await dvss.request("GET", `/v1/state/orders/HO-1?asOf=${encodeURIComponent(asOf)}`, {
        headers: consumer,
      });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: { code: "BAD_REQUEST", details: [{ path: "asOf" }] } });
    }
    const early = await dvss.request(
      "GET",
      `/v1/state/inventory/ROA/H-1?asOf=${encodeURIComponent(at(-1))}`,
      { headers: consumer },
    );
    expect(early.status).toBe(404);
  });
});

describe("GET /v1/state/.../explain", () => {
  it("gives the chain in fold order ending at the stored value, with a consumer key only", async () => {
    const inventory = await dvss.request("GET", "/v1/state/inventory/ROA/H-1/explain", { headers: consumer });
    const order = await dvss.request("GET", "/v1/state/orders/HO-1/explain", { headers: consumer });
    const withVendorKey = await dvss.request("GET", "/v1/state/orders/HO-1/explain", {
      headers: { "x-api-key": "local-vendorA-key" },
    });
    const unknown = await dvss.request("GET", "/v1/state/orders/NOPE/explain", { headers: consumer });

    expect(inventory.status).toBe(200);
    expect(
      inventory.body.steps.map((step: { externalEventId: string; running: number }) => [
        step.externalEventId,
        step.running,
      ]),
    ).toEqual([
      ["h-s", 50],
      ["h-late", 43],
      ["h-1", 48],
      ["h-2", 46],
    ]);
    expect(inventory.body.state.quantityOnHand).toBe(46);
    expect(inventory.body.consistent).toBe(true);
    expect(
      order.body.steps.map((step: { effect: string; running: string }) => [step.effect, step.running]),
    ).toEqual([
      ["lines", "CREATED"],
      ["status", "PICKED"],
    ]);
    expect(order.body.state.status).toBe("PICKED");
    expect(withVendorKey.status).toBe(403);
    expect(unknown.status).toBe(404);
  });
});
