import { describe, expect, it } from "vitest";
import { canonicalDocument, type MatchResult } from "../src/crosswalk.ts";
import type { DvssError } from "../src/errors.ts";
import type { NormalizedDocument } from "../src/normalized.ts";
import { applyInventoryEvent, type InventoryState } from "../src/state/inventory.ts";
import { applyOrderEvent } from "../src/state/orders.ts";
import type { InventoryDocument, OrderDocument } from "../src/state/types.ts";
import { MAX_VENDOR_KEYS } from "../src/state/vendor-keys.ts";
import { at, inventoryUpdated, orderCreated } from "./state-events.ts";

const options = { priority: 10 };
const mapped = (kind: "location" | "product" | "order", vendorKey: string, canonicalId: string) => ({
  kind,
  vendorKey,
  canonicalId,
  version: 1,
});
const inUnit = <D extends NormalizedDocument>(doc: D, unit: string): D => ({
  ...doc,
  data: { ...doc.data, unit },
});

describe("canonical ids in the state", () => {
  it("keys the entity by canonical ids and lists the vendor keys the crosswalk mapped, not identity ones", () => {
    const match: MatchResult = {
      matched: [mapped("location", "R1", "ROA"), mapped("product", "B-1", "ABC-001")],
    };
    const fromB = canonicalDocument(
      inventoryUpdated(5, { vendorId: "vendorB", occurredAt: at(1) }, "R1", "B-1"),
      match,
    ) as InventoryDocument;
    const fromA = inventoryUpdated(6, { vendorId: "vendorA", occurredAt: at(2) });

    const first = applyInventoryEvent(undefined, fromB, options).item;
    const second = applyInventoryEvent(first, fromA, options).item;

    expect(second).toMatchObject({ warehouseId: "ROA", sku: "ABC-001", quantityOnHand: 6, version: 2 });
    expect(second.vendorKeys).toEqual([{ vendorId: "vendorB", warehouseId: "R1", sku: "B-1" }]);
  });

  it("keeps at most MAX_VENDOR_KEYS keys, the same ones in any order", () => {
    const docs = Array.from({ length: MAX_VENDOR_KEYS + 4 }, (_, n) =>
      canonicalDocument(inventoryUpdated(n, { vendorId: "vendorB", occurredAt: at(n) }, "R1", `B-${n}`), {
        matched: [mapped("location", "R1", "ROA"), mapped("product", `B-${n}`, "ABC-001")],
      }),
    ) as InventoryDocument[];
    const fold = (list: InventoryDocument[]) =>
      list.reduce<InventoryState | undefined>(
        (state, doc) => applyInventoryEvent(state, doc, options).item,
        undefined,
      );

    const forwards = fold(docs);
    const backwards = fold([...docs].reverse());

    expect(forwards?.vendorKeys).toHaveLength(MAX_VENDOR_KEYS);
    expect(forwards?.vendorKeys).toEqual(backwards?.vendorKeys);
  });

  it("names in a divergence what the vendor said beside the canonical entity", () => {
    const first = applyInventoryEvent(
      undefined,
      inventoryUpdated(5, { vendorId: "vendorA", occurredAt: at(5) }),
      options,
    );
    const late = canonicalDocument(
      inventoryUpdated(9, { vendorId: "vendorB", occurredAt: at(1) }, "R1", "B-1"),
      {
        matched: [mapped("location", "R1", "ROA"), mapped("product", "B-1", "ABC-001")],
      },
    ) as InventoryDocument;

    const { divergences } = applyInventoryEvent(first.item, late, { priority: 20 });

    expect(divergences[0]).toMatchObject({
      kind: "STALE_EVENT",
      entity: { type: "inventory", key: "ROA#ABC-001" },
      said: { warehouseId: "R1", sku: "B-1", quantityOnHand: 9 },
    });
  });

  it("keys an order by its canonical id, its lines by canonical products", () => {
    const doc = canonicalDocument(
      orderCreated("PO-9", [{ sku: "B-1", quantity: 2 }], { vendorId: "vendorB", occurredAt: at(0) }, "R1"),
      {
        matched: [
          mapped("order", "PO-9", "O-1"),
          mapped("location", "R1", "ROA"),
          mapped("product", "B-1", "ABC-001"),
        ],
      },
    ) as OrderDocument;

    const { item } = applyOrderEvent(undefined, doc, options);

    expect(item).toMatchObject({
      orderId: "O-1",
      warehouseId: "ROA",
      lines: [{ sku: "ABC-001", quantity: 2 }],
    });
    expect(item.vendorKeys).toEqual([{ vendorId: "vendorB", orderId: "PO-9" }]);
  });
});

describe("units in the state", () => {
  it("keeps the unit an entity first saw and refuses another: UNIT_MISMATCH; a replay is still a replay", () => {
    const inKilos = inUnit(inventoryUpdated(3, { occurredAt: at(0) }), "KG");
    const inEach = inventoryUpdated(4, { occurredAt: at(1) });
    const { item } = applyInventoryEvent(undefined, inKilos, options);

    let refused: DvssError | undefined;
    try {
      applyInventoryEvent(item, inEach, options);
    } catch (error) {
      refused = error as DvssError;
    }

    expect(item.unit).toBe("KG");
    expect(refused?.code).toBe("UNIT_MISMATCH");
    expect(refused?.details).toEqual([{ path: "unit", message: "EA, expected KG" }]);
    expect(applyInventoryEvent(item, inKilos, options).changed).toBe(false);
  });

  it("counts an entity without a unit in EA, as every entity did before units", () => {
    const { item } = applyInventoryEvent(undefined, inventoryUpdated(3, { occurredAt: at(0) }), options);

    expect(item.unit).toBeUndefined();
    expect(() =>
      applyInventoryEvent(item, inUnit(inventoryUpdated(1, { occurredAt: at(1) }), "EA"), options),
    ).not.toThrow();
    expect(() =>
      applyInventoryEvent(item, inUnit(inventoryUpdated(1, { occurredAt: at(2) }), "CS"), options),
    ).toThrow(/counts in EA/);
  });
});
