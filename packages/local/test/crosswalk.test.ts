import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliHarness, startCliHarness } from "../../cli/test/harness.ts";
import { crosswalkWith, tempDir, vendorsWith, writeInventoryVersion } from "./harness.ts";

/**
 * vendorC names sites and products its own way and requires a crosswalk entry for both. Its
 * bundled crosswalk maps C-ROA → ROA and C-ABC → ABC-001, and C-ABC-CS (cases of 12) → ABC-001.
 */
const consumer = { "x-api-key": "local-consumer-key" };

const vendorsWithVendorC = () =>
  vendorsWith({
    vendorId: "vendorC",
    name: "Vendor C (own keys)",
    mapping: `{"eventType": "InventoryUpdated", "data": {"warehouseId": payload.site, "sku": payload.item, "quantityOnHand": payload.units, "unit": payload.unit}}`,
    example: {
      payload: { site: "C-ROA", item: "C-ABC", units: 5 },
      data: { warehouseId: "C-ROA", sku: "C-ABC", quantityOnHand: 5 },
    },
    match: { location: "required", product: "required" },
  });

const crosswalkDir = () =>
  crosswalkWith("vendorC", [
    { kind: "location", vendorKey: "C-ROA", canonicalId: "ROA" },
    { kind: "product", vendorKey: "C-ABC", canonicalId: "ABC-001" },
    {
      kind: "product",
      vendorKey: "C-ABC-CS",
      canonicalId: "ABC-001",
      unit: "EA",
      vendorUnit: "CS",
      factor: 12,
    },
  ]);

const stock = (externalEventId: string, occurredAt: string, payload: Record<string, unknown>) => ({
  vendorId: "vendorC",
  externalEventId,
  eventType: "inventory_update",
  occurredAt,
  payload,
});

let dvss: CliHarness;
beforeAll(async () => {
  dvss = await startCliHarness({ vendorsDir: vendorsWithVendorC(), crosswalkDir: crosswalkDir() });
});
afterAll(async () => {
  await dvss?.close();
});

describe("the crosswalk through the local runtime", () => {
  it("loads the bundled crosswalk at start, versioned, and lists it", async () => {
    const listed = await dvss.cli("crosswalk", "list", "--vendor", "vendorC", "--json");

    expect(dvss.runtime.refusedCrosswalks).toEqual([]);
    expect(
      listed.json().map((e: { vendorKey: string; version: number }) => [e.vendorKey, e.version]),
    ).toEqual([
      ["C-ROA", 1],
      ["C-ABC", 1],
      ["C-ABC-CS", 1],
    ]);
  });

  it("converges two vendors' events for one product and site under their own keys into one canonical item", async () => {
    await dvss.postAndSettle({
      vendorId: "vendorA",
      externalEventId: "conv-a-1",
      eventType: "inventory_update",
      occurredAt: "2026-02-01T10:00:00Z",
      payload: { sku: "ABC-001", qty: 30, warehouse: "ROA" },
    });
    const ingestId = await dvss.postAndSettle(
      stock("conv-c-1", "2026-02-01T11:00:00Z", { site: "C-ROA", item: "C-ABC-CS", units: 4, unit: "CS" }),
    );

    const state = await dvss.request("GET", "/v1/state/inventory/ROA/ABC-001", { headers: consumer });
    const status = (await dvss.cli("status", ingestId, "--json")).json();
    const document = JSON.parse(
      (await dvss.object(status.normalizedRef.bucket, status.normalizedRef.key)).toString(),
    );

    // 4 cases of 12, under the canonical ids; vendorA feeds it under the same ids (identity).
    expect(state.body).toMatchObject({
      warehouseId: "ROA",
      sku: "ABC-001",
      quantityOnHand: 48,
      sourceVendorId: "vendorC",
      vendorKeys: [{ vendorId: "vendorC", warehouseId: "C-ROA", sku: "C-ABC-CS" }],
    });
    expect(state.body.unit).toBeUndefined();
    // The normalized document stays what the vendor said.
    expect(document.data).toEqual({ warehouseId: "C-ROA", sku: "C-ABC-CS", quantityOnHand: 4, unit: "CS" });
  });

  it("quarantines an unmatched key, and after crosswalk add a redrive by reason normalizes it", async () => {
    const ingestId = await dvss.postAndSettle(
      stock("fix-c-1", "2026-02-01T12:00:00Z", { site: "C-ROA", item: "C-NEW", units: 7 }),
    );
    const before = (await dvss.cli("status", ingestId, "--json")).json();

    const added = await dvss.cli("crosswalk", "add", "vendorC", "product", "C-NEW", "XYZ-9", "--json");
    const redriven = await dvss.cli(
      "redrive",
      "--all",
      "--reason",
      "UNMATCHED_IDENTIFIER",
      "--wait",
      "--json",
    );
    const after = (await dvss.cli("status", ingestId, "--json")).json();
    const state = await dvss.request("GET", "/v1/state/inventory/ROA/XYZ-9", { headers: consumer });

    expect(before.record.status).toBe("FAILED_NORMALIZE");
    expect(before.quarantine).toMatchObject({
      reason: "UNMATCHED_IDENTIFIER",
      stage: "Match",
      details: [{ path: "product", message: "C-NEW" }],
    });
    expect(added.json()).toMatchObject({ canonicalId: "XYZ-9", version: 1, history: [{ version: 1 }] });
    expect(redriven.json().items).toEqual([
      expect.objectContaining({ ingestId, outcome: { status: "NORMALIZED" } }),
    ]);
    expect(after.record.status).toBe("NORMALIZED");
    expect(after.quarantine.status).toBe("resolved");
    expect(state.body).toMatchObject({
      quantityOnHand: 7,
      vendorKeys: [{ vendorId: "vendorC", warehouseId: "C-ROA", sku: "C-NEW" }],
    });
  });

  it("quarantines an event in another unit than its product's, the crosswalk converting none: UNIT_MISMATCH", async () => {
    const ingestId = await dvss.postAndSettle(
      stock("unit-c-1", "2026-02-01T13:00:00Z", { site: "C-ROA", item: "C-ABC", units: 2, unit: "PL" }),
    );

    const status = (await dvss.cli("status", ingestId, "--json")).json();

    // Refused at Match: a product without a crosswalk unit counts in EA, whatever arrived first.
    expect(status.quarantine).toMatchObject({ reason: "UNIT_MISMATCH", stage: "Match" });
  });

  it("removes an entry, keeping its history, and answers 3 for one it does not have", async () => {
    await dvss.cli("crosswalk", "add", "vendorC", "order", "PO-C", "O-1", "--json");
    const changed = await dvss.cli("crosswalk", "add", "vendorC", "order", "PO-C", "O-2", "--json");

    const removed = await dvss.cli("crosswalk", "remove", "vendorC", "order", "PO-C", "--json");
    const again = await dvss.cli("crosswalk", "remove", "vendorC", "order", "PO-C");
    const listed = await dvss.cli("crosswalk", "list", "--json");

    expect(changed.json()).toMatchObject({ canonicalId: "O-2", version: 2 });
    expect(removed.json().canonicalId).toBeUndefined();
    expect(
      removed
        .json()
        .history.map((h: { version: number; canonicalId?: string }) => [h.version, h.canonicalId]),
    ).toEqual([
      [1, "O-1"],
      [2, "O-2"],
      [3, undefined],
    ]);
    expect(again.code).toBe(3);
    expect(listed.json().some((e: { vendorKey: string }) => e.vendorKey === "PO-C")).toBe(false);
    // Every registered vendor's entries, without --vendor.
    expect(listed.json().some((e: { vendorKey: string }) => e.vendorKey === "C-ROA")).toBe(true);
  });

  it("tries a candidate version (what-if) under the canonical ids the Match stage gives", async () => {
    const candidate = writeInventoryVersion(
      tempDir("dvss-crosswalk-what-if-"),
      "vendorC",
      "2",
      `{"eventType": "InventoryUpdated", "data": {"warehouseId": payload.site, "sku": payload.item, "quantityOnHand": payload.units + 1, "unit": payload.unit}}`,
      {
        payload: { site: "C-ROA", item: "C-ABC", units: 5 },
        data: { warehouseId: "C-ROA", sku: "C-ABC", quantityOnHand: 6 },
      },
    );

    const report = (await dvss.cli("mapping", "what-if", candidate, "--json")).json();

    // The changed documents fold into the canonical entities they were applied to (applied
    // already, so no state changes); under the vendor's keys they would be new entities.
    expect(report.counts).toMatchObject({ events: 3, changed: 2, wouldFail: 1, states: 0 });
    expect(report.documents.map((doc: { appliedAlready: boolean }) => doc.appliedAlready)).toEqual([
      true,
      true,
    ]);
    expect(report.states).toEqual([]);
    expect(report.wouldFail.map((failure: { code: string }) => failure.code)).toEqual(["UNIT_MISMATCH"]);
  });

  it("refuses an import that maps a key to a second canonical id, naming both", async () => {
    const file = join(tempDir("dvss-crosswalk-import-"), "vendorC.json");
    writeFileSync(
      file,
      JSON.stringify({
        vendorId: "vendorC",
        entries: [{ kind: "location", vendorKey: "C-ROA", canonicalId: "RIC" }],
      }),
    );

    const refused = await dvss.cli("crosswalk", "import", file, "--json");

    expect(refused.code).toBe(1);
    expect(refused.json().error.message).toContain("ROA and RIC");
  });
});
