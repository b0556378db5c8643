import { describe, expect, it } from "vitest";
import {
  assertMatchCurrent,
  type CrosswalkEntry,
  type CrosswalkTable,
  canonicalDocument,
  createCrosswalkCache,
  entryKey,
  lookupIn,
  MAX_CROSSWALK_ENTRIES,
  type MatchKind,
  matchEvent,
  parseCrosswalkFile,
  validateCrosswalkEntries,
} from "../src/crosswalk.ts";
import type { DvssError } from "../src/errors.ts";
import { addCrosswalkEntry } from "../src/ops/crosswalk.ts";
import { at, inventoryAdjusted, inventoryUpdated, orderCreated, orderStatusChanged } from "./state-events.ts";

const entry = (
  kind: MatchKind,
  vendorKey: string,
  canonicalId: string,
  extra: Partial<CrosswalkEntry> = {},
): CrosswalkEntry => ({
  vendorId: "vendorB",
  kind,
  vendorKey,
  canonicalId,
  version: 1,
  updatedAt: at(0),
  updatedBy: "ops",
  history: [],
  ...extra,
});

const tableOf = (...entries: CrosswalkEntry[]): CrosswalkTable =>
  new Map(entries.map((e) => [entryKey(e.kind, e.vendorKey), e]));

const codeOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return {
      code: (error as DvssError).code,
      message: (error as Error).message,
      details: (error as DvssError).details,
    };
  }
  return undefined;
};

describe("validateCrosswalkEntries", () => {
  it("refuses a key mapped to two canonical ids, naming both", () => {
    const refused = codeOf(() =>
      validateCrosswalkEntries("vendorB", [
        { kind: "product", vendorKey: "B-1", canonicalId: "ABC-001" },
        { kind: "product", vendorKey: "B-1", canonicalId: "ABC-002" },
      ]),
    );

    expect(refused?.code).toBe("REFUSED");
    expect(refused?.message).toContain("ABC-001 and ABC-002");
  });

  it("refuses at import a key the table maps to another id, and lets an add replace it", () => {
    const existing = new Map([[entryKey("location", "R1"), { canonicalId: "ROA" }]]);
    const input = [{ kind: "location", vendorKey: "R1", canonicalId: "RIC" }];

    const imported = codeOf(() => validateCrosswalkEntries("vendorB", input, existing));
    const added = validateCrosswalkEntries("vendorB", input, existing, { replace: true });

    expect(imported?.message).toContain("ROA and RIC");
    expect(added).toEqual(input);
  });

  it("names every malformed field and keeps units to products, a conversion with its unit", () => {
    const refused = codeOf(() =>
      validateCrosswalkEntries("vendorB", [
        { kind: "site", vendorKey: "R1", canonicalId: "ROA" },
        { kind: "location", vendorKey: " R1", canonicalId: "ROA" },
        { kind: "location", vendorKey: "R2", canonicalId: "ROA", unit: "EA" },
        { kind: "product", vendorKey: "B-1", canonicalId: "ABC-001", vendorUnit: "CS", factor: 12 },
        {
          kind: "product",
          vendorKey: "B-2",
          canonicalId: "ABC-002",
          unit: "EA",
          factor: 1.5,
          vendorUnit: "CS",
        },
      ]),
    );

    expect(refused?.details.map((d) => d.path)).toEqual([
      "entries.0.kind",
      "entries.1.vendorKey",
      "entries.2",
      "entries.3",
      "entries.4.factor",
    ]);
  });

  it("refuses a vendor's table past its bound", () => {
    const existing = new Map(
      Array.from({ length: MAX_CROSSWALK_ENTRIES }, (_, n) => [
        entryKey("order", `O-${n}`),
        { canonicalId: `${n}` },
      ]),
    );

    const refused = codeOf(() =>
      validateCrosswalkEntries("vendorB", [{ kind: "order", vendorKey: "new", canonicalId: "X" }], existing),
    );

    expect(refused?.message).toContain(`more than ${MAX_CROSSWALK_ENTRIES}`);
  });
});

describe("parseCrosswalkFile", () => {
  it("reads the vendor and entries, and refuses what is not a crosswalk file", () => {
    const parsed = parseCrosswalkFile('{"vendorId":"vendorB","entries":[]}', "f.json");

    expect(parsed).toEqual({ vendorId: "vendorB", entries: [] });
    expect(codeOf(() => parseCrosswalkFile("{", "f.json"))?.code).toBe("USAGE");
    expect(codeOf(() => parseCrosswalkFile('{"entries":[]}', "f.json"))?.code).toBe("USAGE");
  });
});

describe("matchEvent", () => {
  const meta = { vendorId: "vendorB", occurredAt: at(0) };

  it("takes every key as its own canonical id under identity, without entries", () => {
    const result = matchEvent(inventoryUpdated(5, meta, "R1", "B-1"), undefined, lookupIn(new Map()));

    expect(result).toEqual({ matched: [] });
  });

  it("resolves each identifier an entry maps, lines' skus too", () => {
    const table = tableOf(entry("order", "PO-1", "O-1"), entry("product", "B-1", "ABC-001"));

    const result = matchEvent(
      orderCreated(
        "PO-1",
        [
          { sku: "B-1", quantity: 1 },
          { sku: "B-2", quantity: 2 },
        ],
        meta,
        "R1",
      ),
      { product: "identity" },
      lookupIn(table),
    );

    expect(result.matched).toEqual([
      { kind: "order", vendorKey: "PO-1", canonicalId: "O-1", version: 1 },
      { kind: "product", vendorKey: "B-1", canonicalId: "ABC-001", version: 1 },
    ]);
  });

  it("refuses a key without an entry under required: UNMATCHED_IDENTIFIER naming the kind and key", () => {
    const table = tableOf(entry("product", "B-1", "ABC-001"));

    const refused = codeOf(() =>
      matchEvent(inventoryUpdated(5, meta, "R1", "B-1"), { location: "required" }, lookupIn(table)),
    );

    expect(refused?.code).toBe("UNMATCHED_IDENTIFIER");
    expect(refused?.details).toEqual([{ path: "location", message: "R1" }]);
  });

  it("ignores a removed entry: under required it is unmatched", () => {
    const removed = { ...entry("order", "PO-1", "O-1"), canonicalId: undefined } as unknown as CrosswalkEntry;

    const refused = codeOf(() =>
      matchEvent(
        orderStatusChanged("PO-1", "ACKED", meta),
        { order: "required" },
        lookupIn(tableOf(removed)),
      ),
    );

    expect(refused?.code).toBe("UNMATCHED_IDENTIFIER");
  });

  it("refuses two line skus of one order that resolve to one product: AMBIGUOUS_MATCH", () => {
    const table = tableOf(entry("product", "B-1", "ABC-001"), entry("product", "B-1-OLD", "ABC-001"));

    const refused = codeOf(() =>
      matchEvent(
        orderCreated(
          "PO-1",
          [
            { sku: "B-1", quantity: 1 },
            { sku: "B-1-OLD", quantity: 2 },
          ],
          meta,
        ),
        undefined,
        lookupIn(table),
      ),
    );

    expect(refused?.code).toBe("AMBIGUOUS_MATCH");
    expect(refused?.message).toContain("B-1 and B-1-OLD");
  });

  it("converts a vendor unit the crosswalk converts, and refuses another: UNIT_MISMATCH", () => {
    const table = tableOf(entry("product", "B-1", "ABC-001", { unit: "EA", vendorUnit: "CS", factor: 12 }));
    const inCases = { ...inventoryAdjusted(2, meta, "R1", "B-1") };
    inCases.data = { ...inCases.data, unit: "CS" };
    const inPallets = { ...inCases, data: { ...inCases.data, unit: "PL" } };

    const converted = matchEvent(inCases, undefined, lookupIn(table));

    expect(converted).toMatchObject({ factor: 12 });
    expect(converted.unit).toBeUndefined();
    expect(canonicalDocument(inCases, converted).data).toEqual({
      warehouseId: "R1",
      sku: "ABC-001",
      quantityDelta: 24,
      unit: "EA",
    });
    expect(codeOf(() => matchEvent(inPallets, undefined, lookupIn(table)))?.code).toBe("UNIT_MISMATCH");
  });

  it("counts a product without a crosswalk unit in EA: another unit is UNIT_MISMATCH whatever arrived first", () => {
    const inKilos = inventoryUpdated(3, meta, "R1", "B-1");
    inKilos.data = { ...inKilos.data, unit: "KG" };
    const table = lookupIn(tableOf(entry("location", "R1", "ROA")));

    const refused = codeOf(() => matchEvent(inKilos, undefined, table));

    expect(refused?.code).toBe("UNIT_MISMATCH");
    expect(refused?.details).toEqual([{ path: "unit", message: "KG, expected EA" }]);
    expect(matchEvent(inventoryUpdated(3, meta, "R1", "B-1"), undefined, table).unit).toBeUndefined();
  });

  it("carries a product's crosswalk unit to the state", () => {
    const doc = inventoryUpdated(3, meta, "R1", "B-1");
    doc.data = { ...doc.data, unit: "KG" };
    const table = tableOf(entry("location", "R1", "ROA"), entry("product", "B-1", "P-1", { unit: "KG" }));

    const result = matchEvent(doc, undefined, lookupIn(table));

    expect(result.unit).toBe("KG");
    expect(canonicalDocument(doc, result).data).toEqual({
      warehouseId: "ROA",
      sku: "P-1",
      quantityOnHand: 3,
      unit: "KG",
    });
  });
});

describe("canonicalDocument", () => {
  it("is the document itself when nothing maps, else canonical data beside what the vendor said", () => {
    const doc = inventoryUpdated(5, { vendorId: "vendorB", occurredAt: at(0) }, "R1", "B-1");
    const match = {
      matched: [
        { kind: "location" as const, vendorKey: "R1", canonicalId: "ROA", version: 1 },
        { kind: "product" as const, vendorKey: "B-1", canonicalId: "ABC-001", version: 2 },
      ],
    };

    const inEach = { ...doc, data: { ...doc.data, unit: "EA" } };

    expect(canonicalDocument(doc, { matched: [] })).toBe(doc);
    expect(canonicalDocument(inEach, { matched: [] })).toBe(inEach);
    expect(canonicalDocument(doc, match)).toEqual({
      ...doc,
      data: { warehouseId: "ROA", sku: "ABC-001", quantityOnHand: 5 },
      vendorData: doc.data,
    });
  });
});

describe("the crosswalk cache", () => {
  it("reads a vendor's table once per period, afresh when asked, and drops the least recently used past its bound", async () => {
    let clock = 0;
    const reads: string[] = [];
    const cache = createCrosswalkCache({
      read: async (vendorId) => {
        reads.push(vendorId);
        return new Map();
      },
      ttlMs: 1_000,
      maxVendors: 2,
      now: () => clock,
    });

    await cache.get("vendorA");
    clock = 999;
    await cache.get("vendorA");
    await cache.get("vendorA", { fresh: true });
    clock = 2_000;
    await cache.get("vendorA");
    await cache.get("vendorB");
    await cache.get("vendorC");
    await cache.get("vendorA");

    // vendorC pushed out vendorA, the least recently used.
    expect(reads).toEqual(["vendorA", "vendorA", "vendorA", "vendorB", "vendorC", "vendorA"]);
  });
});

describe("assertMatchCurrent", () => {
  it("refuses an entry changed or removed after Match read it: AMBIGUOUS_MATCH", () => {
    const match = {
      matched: [{ kind: "product" as const, vendorKey: "B-1", canonicalId: "ABC-001", version: 1 }],
    };
    const changed = tableOf(entry("product", "B-1", "ABC-009", { version: 2 }));
    const removed: CrosswalkTable = new Map([
      [
        entryKey("product", "B-1"),
        { ...entry("product", "B-1", "x", { version: 2 }), canonicalId: undefined },
      ],
    ]);

    expect(() =>
      assertMatchCurrent("vendorB", match, tableOf(entry("product", "B-1", "ABC-001"))),
    ).not.toThrow();
    expect(codeOf(() => assertMatchCurrent("vendorB", match, changed))?.message).toContain(
      "now maps to ABC-009",
    );
    expect(codeOf(() => assertMatchCurrent("vendorB", match, removed))?.message).toContain("was removed");
  });
});

describe("a crosswalk write", () => {
  it("is refused when another change of the entry won the race, never overwriting it", async () => {
    const stored = { ...entry("product", "B-1", "ABC-001"), history: [] };
    const lost = Object.assign(new Error("condition"), { name: "ConditionalCheckFailedException" });
    const writes: unknown[] = [];
    const entities = {
      crosswalk: {
        query: { byVendor: () => ({ go: async () => ({ data: [stored] }) }) },
        put: (item: unknown) => ({
          where: () => ({
            go: async () => {
              writes.push(item);
              throw lost;
            },
          }),
        }),
      },
    };
    const context = { entities, now: () => 0 } as unknown as Parameters<typeof addCrosswalkEntry>[0];

    const refused = await addCrosswalkEntry(
      context,
      "vendorB",
      { kind: "product", vendorKey: "B-1", canonicalId: "ABC-002" },
      "ops",
    ).catch((error: DvssError) => error);

    expect(writes).toHaveLength(1);
    expect((refused as DvssError).code).toBe("REFUSED");
    expect((refused as DvssError).message).toContain("changed meanwhile");
  });
});
