import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./harness.ts";

// Many events on one warehouse/sku at once: in AWS an Express workflow runs hundreds of
// executions together, so the local endpoint is opened up to the same order of concurrency.
const EVENTS = 300;
const CONCURRENCY = 64;
const T0 = Date.parse("2026-03-01T00:00:00Z");
const consumer = { authorization: "Bearer local-consumer-key" };

/** Posts every envelope with at most `concurrency` requests in flight; returns the ingestIds. */
async function postAll(dvss: Harness, envelopes: object[], concurrency: number): Promise<string[]> {
  const ingestIds: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < envelopes.length) {
        const envelope = envelopes[next++];
        const response = await dvss.post(envelope);
        expect(response.status).toBe(202);
        ingestIds.push(response.body.ingestId);
      }
    }),
  );
  return ingestIds;
}

describe("a hot entity", () => {
  let dvss: Harness;
  beforeAll(async () => {
    dvss = await startHarness();
  });
  afterAll(() => dvss.close());

  it(`applies all ${EVENTS} concurrent events on one warehouse/sku: none quarantined, the state is the fold, the feed has each change once`, async () => {
    // One snapshot, then adjustments after it; each delta is distinct so a lost or doubled one shows.
    const deltas = Array.from({ length: EVENTS - 1 }, (_, i) => (i % 2 === 0 ? i + 1 : -(i % 7) - 1));
    const envelopes = [
      {
        vendorId: "vendorA",
        externalEventId: "hot-snapshot",
        eventType: "inventory_update",
        occurredAt: new Date(T0).toISOString(),
        payload: { sku: "HOT-1", qty: 1_000, warehouse: "HOT" },
      },
      ...deltas.map((delta, i) => ({
        vendorId: "vendorA",
        externalEventId: `hot-adjust-${i}`,
        eventType: "inventory_adjust",
        occurredAt: new Date(T0 + (i + 1) * 1_000).toISOString(),
        payload: { sku: "HOT-1", qtyChange: delta, warehouse: "HOT" },
      })),
    ];

    const ingestIds = await postAll(dvss, envelopes, CONCURRENCY);
    await dvss.runtime.stepFunctions.drain();

    const records = await dvss.records();
    const byStatus = Object.groupBy(records, (record) => record.status);
    expect({
      failed: byStatus.FAILED_NORMALIZE?.map((r) => r.lastError),
      received: byStatus.RECEIVED?.length,
    }).toEqual({
      failed: undefined,
      received: undefined,
    });
    expect(byStatus.NORMALIZED).toHaveLength(EVENTS);

    const state = await dvss.request("GET", "/v1/state/inventory/HOT/HOT-1", { headers: consumer });
    expect(state.body).toMatchObject({
      quantityOnHand: 1_000 + deltas.reduce((sum, delta) => sum + delta, 0),
      version: EVENTS,
    });

    const changes: string[] = [];
    let after = "";
    for (;;) {
      const page = await dvss.request("GET", `/v1/feed?limit=500${after && `&after=${after}`}`, {
        headers: consumer,
      });
      if (page.body.items.length === 0) break;
      changes.push(...page.body.items.map((item: { event: { ingestId: string } }) => item.event.ingestId));
      after = encodeURIComponent(page.body.next);
    }
    expect(changes.toSorted()).toEqual(ingestIds.toSorted());
  }, 120_000);
});
