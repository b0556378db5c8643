import { setTimeout as delay } from "node:timers/promises";
import { publishMappingVersion } from "@dvss/core/mapping/store-source";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, seedEnvelope, startHarness, vendorsWith } from "./harness.ts";

const PLAIN_MAPPING =
  '{"eventType": "InventoryUpdated", "data": {"warehouseId": payload.warehouse, "sku": payload.sku, "quantityOnHand": payload.qty}}';
// Backtracks for minutes on a 33-character warehouse code ("aaaa...a!") unless something stops it.
// The checks at start and at publish refuse its regular expression, so it gets in the way one that
// slipped past them would: written to the store as an active version, without those checks.
const HOSTILE_MAPPING =
  '{"eventType": "InventoryUpdated", "data": {"warehouseId": $contains(payload.warehouse, /^(a+)+$/) ? "AAA" : payload.warehouse, "sku": payload.sku, "quantityOnHand": payload.qty}}';

// The tested vendor definitions plus vendorH, bundled with a plain inventory_update/1.
const vendorsDir = vendorsWith({
  vendorId: "vendorH",
  name: "Hostile mapping",
  mapping: PLAIN_MAPPING,
  example: {
    payload: { sku: "ABC-001", qty: 1, warehouse: "ROA" },
    data: { warehouseId: "ROA", sku: "ABC-001", quantityOnHand: 1 },
  },
});

let dvss: Harness;
beforeAll(async () => {
  dvss = await startHarness({ vendorsDir });
  await publishMappingVersion(
    dvss.entities,
    {
      vendorId: "vendorH",
      eventType: "inventory_update",
      version: "2",
      payloadSchema: { type: "object" },
      mapping: HOSTILE_MAPPING,
    },
    { examples: 0 },
  );
});
afterAll(async () => {
  await dvss?.close();
});

const keyOf = (vendorId: string) => ({ "x-api-key": `local-${vendorId}-key` });

async function post(envelope: Record<string, unknown>): Promise<string> {
  const response = await dvss.post(envelope, keyOf(String(envelope.vendorId)));
  expect(response.status).toBe(202);
  return response.body.ingestId;
}

async function statusOf(vendorId: string, ingestId: string): Promise<string> {
  const event = await dvss.request("GET", `/v1/events/${ingestId}`, { headers: keyOf(vendorId) });
  return event.body.status;
}

/** Polls until the event leaves RECEIVED; answers its status and when it was seen. */
async function settled(vendorId: string, ingestId: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await statusOf(vendorId, ingestId);
    if (status !== "RECEIVED" || Date.now() > deadline) return { status, at: Date.now() };
    await delay(20);
  }
}

describe("a hostile vendor mapping", () => {
  it("quarantines its own event as MAPPING_TIMEOUT while another vendor's event, posted after it, normalizes meanwhile", async () => {
    // prepare
    const hostile = {
      ...seedEnvelope,
      vendorId: "vendorH",
      externalEventId: "hostile-1",
      schemaVersion: "2",
      payload: { sku: "ABC-001", qty: 1, warehouse: `${"a".repeat(32)}!` },
    };
    const normal = { ...seedEnvelope, externalEventId: "while-hostile-1" };
    // A warm pipeline (task thread, handlers, mapping evaluators started), as in steady operation.
    const warmUp = await post({ ...seedEnvelope, externalEventId: "warm-up-1" });
    expect((await settled("vendorA", warmUp, 20_000)).status).toBe("NORMALIZED");

    // act
    const hostileId = await post(hostile);
    await delay(300); // the hostile event is in its mapping by now
    const postedAt = Date.now();
    const normalId = await post(normal);
    // Unbounded, the hostile mapping would hold the task side for about 140 s; the other vendor's
    // event must not wait for it (how soon it lands is measured, not asserted: a busy machine).
    const normalOutcome = await settled("vendorA", normalId, 20_000);
    const hostileOutcome = await settled("vendorH", hostileId, 20_000);
    await dvss.runtime.stepFunctions.drain();

    // assess
    expect(normalOutcome.status).toBe("NORMALIZED");
    expect(hostileOutcome.status).toBe("FAILED_NORMALIZE");
    expect(normalOutcome.at - postedAt).toBeLessThan(20_000);
    const { data: entry } = await dvss.entities.quarantine.get({ ingestId: hostileId }).go();
    expect(entry).toMatchObject({
      stage: "Map",
      reason: "MAPPING_TIMEOUT",
      errorName: "MappingTimeoutError",
      message: "Mapping vendorH/inventory_update/2 ran longer than 1000 ms and was stopped",
    });
    expect(entry?.details).toContainEqual({ path: "mappingVersion", message: "vendorH/inventory_update/2" });
    const { data: record } = await dvss.entities.ingestRecords
      .get({ vendorId: "vendorH", externalEventId: "hostile-1" })
      .go();
    // A permanent failure of the event: quarantined once, not retried as a store failure.
    expect(record).toMatchObject({ status: "FAILED_NORMALIZE", attempts: 1 });
  });
});
