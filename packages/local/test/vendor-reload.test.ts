import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliHarness, startCliHarness } from "../../cli/test/harness.ts";
import { startHarness, vendorsWith, writeInventoryVersion } from "./harness.ts";

// The reload rule (docs/operations/runbook.md): the vendors folder is read once, at start; after
// that only `dvss mapping publish` changes what runs. vendorR's inventory_update/1 copies qty.
const PLAIN = "payload.qty";
const mappingOf = (quantity: string) =>
  `{"eventType": "InventoryUpdated", "data": {"warehouseId": payload.warehouse, "sku": payload.sku, "quantityOnHand": ${quantity}}}`;
const exampleOf = (qty: number, quantityOnHand: number) => ({
  payload: { sku: "R-1", qty, warehouse: "ROA" },
  data: { warehouseId: "ROA", sku: "R-1", quantityOnHand },
});
// Longer than the definitions cache of the CLI harness (1 s): what is not seen by then is not cached, but ignored.
const PAST_THE_CACHE_MS = 1_500;

let vendorsDir: string;
let dvss: CliHarness;
let events = 0;
let closed = false;

beforeAll(async () => {
  vendorsDir = vendorsWith({
    vendorId: "vendorR",
    name: "Reloaded",
    mapping: mappingOf(PLAIN),
    example: exampleOf(2, 2),
  });
  dvss = await startCliHarness({ vendorsDir });
});
afterAll(async () => {
  if (!closed) await dvss?.close();
});

/** Posts a vendorR event with qty 5 (of `schemaVersion`, or the active one) and answers the quantity it normalized to. */
async function quantityMapped(
  harness: Pick<CliHarness, "post" | "request" | "object" | "runtime">,
  schemaVersion?: string,
) {
  const envelope = {
    vendorId: "vendorR",
    externalEventId: `reload-${++events}`,
    eventType: "inventory_update",
    occurredAt: "2026-01-30T20:15:12Z",
    ...(schemaVersion && { schemaVersion }),
    payload: { sku: "R-1", qty: 5, warehouse: "ROA" },
  };
  const accepted = await harness.post(envelope, { "x-api-key": "local-vendorR-key" });
  expect(accepted.status).toBe(202);
  await harness.runtime.stepFunctions.drain();
  const event = await harness.request("GET", `/v1/events/${accepted.body.ingestId}`, {
    headers: { "x-api-key": "local-vendorR-key" },
  });
  if (event.body.status !== "NORMALIZED") return event.body.error?.code as string;
  const { bucket, key } = event.body.normalizedRef;
  return JSON.parse((await harness.object(bucket, key)).toString()).data.quantityOnHand as number;
}

describe("vendor definitions while the local runtime runs", () => {
  it("does not run a version folder that appears on disk; runs it once published", async () => {
    expect(await quantityMapped(dvss)).toBe(5);
    const version2 = writeInventoryVersion(
      vendorsDir,
      "vendorR",
      "2",
      mappingOf("payload.qty * 100"),
      exampleOf(2, 200),
    );
    await delay(PAST_THE_CACHE_MS);

    const whileOnDisk = await quantityMapped(dvss);
    const asVersion2 = await quantityMapped(dvss, "2");
    const published = await dvss.cli("mapping", "publish", version2, "--json");
    await delay(PAST_THE_CACHE_MS);
    const afterPublish = await quantityMapped(dvss);

    expect(whileOnDisk).toBe(5);
    expect(asVersion2).toBe("UNKNOWN_SCHEMA_VERSION");
    expect(published.code).toBe(0);
    expect(published.json().result).toMatchObject({ outcome: "published", active: "2" });
    expect(afterPublish).toBe(500);
  });

  it("does not run an edit of a version on disk (a publish of it is refused: versions are immutable)", async () => {
    const version1 = join(vendorsDir, "vendorR/inventory_update/1");
    writeInventoryVersion(vendorsDir, "vendorR", "1", mappingOf("payload.qty + 1000"), exampleOf(2, 1002));
    await delay(PAST_THE_CACHE_MS);

    const afterEdit = await quantityMapped(dvss, "1");
    const publishEdit = await dvss.cli("mapping", "publish", version1);

    expect(afterEdit).toBe(5);
    expect(publishEdit.code).toBe(1);
    expect(publishEdit.stderr).toContain("vendorR/inventory_update/1 is already bundled with other content");
    expect(await quantityMapped(dvss, "1")).toBe(5);
  });

  it("does not know a vendor folder that appears on disk until restarted", async () => {
    const folder = join(vendorsDir, "vendorN");
    mkdirSync(folder);
    writeFileSync(
      join(folder, "vendor.json"),
      JSON.stringify({ vendorId: "vendorN", name: "New", priority: 60, rateLimitPerSecond: 100 }),
    );
    writeInventoryVersion(vendorsDir, "vendorN", "1", mappingOf(PLAIN), exampleOf(2, 2));

    const posted = await dvss.post(
      {
        vendorId: "vendorN",
        externalEventId: "new-1",
        eventType: "inventory_update",
        occurredAt: "2026-01-30T20:15:12Z",
        payload: { qty: 1 },
      },
      { "x-api-key": "local-vendorN-key" },
    );

    expect(posted.status).toBe(401);
  });

  it("runs what is on disk after a restart, leaving out a half-written version folder", async () => {
    // A version being written: its mapping is there, its examples not yet.
    const half = join(vendorsDir, "vendorR/inventory_update/3");
    mkdirSync(half, { recursive: true });
    writeFileSync(join(half, "payload.schema.json"), JSON.stringify({ type: "object" }));
    writeFileSync(join(half, "mapping.jsonata"), mappingOf("payload.qty * 3"));
    await dvss.close();
    closed = true;

    const restarted = await startHarness({ dataDir: dvss.dataDir, vendorsDir });
    try {
      expect(restarted.runtime.refusedVersions).toEqual([
        {
          id: "vendorR/inventory_update/3",
          message: `${vendorsDir}/vendorR/inventory_update/3: vendorR/inventory_update/3 has no examples (examples/<name>.input.json)`,
        },
      ]);
      expect(await quantityMapped(restarted, "1")).toBe(1005);
      expect(await quantityMapped(restarted, "3")).toBe("UNKNOWN_SCHEMA_VERSION");
      // The last publish still decides the active version.
      expect(await quantityMapped(restarted)).toBe(500);
      const newVendor = await restarted.post(
        {
          vendorId: "vendorN",
          externalEventId: "new-2",
          eventType: "inventory_update",
          occurredAt: "2026-01-30T20:15:12Z",
          payload: { qty: 1 },
        },
        { "x-api-key": "local-vendorN-key" },
      );
      expect(newVendor.status).toBe(202);
    } finally {
      await restarted.close();
    }
  });
});
