import { readUnits, type TableShape, writeUnits } from "@dvss/local/capacity-units";
import { describe, expect, it } from "vitest";

/** Sizes as the tests say them: an item's `size` attribute, 10 bytes if it has none. */
const size = (item: Record<string, unknown>) => Number((item.size as { N?: string } | undefined)?.N ?? 10);
const s = (value: string) => ({ S: value });
const n = (value: number) => ({ N: String(value) });

const table = (projection: TableShape["GlobalSecondaryIndexes"] = []): TableShape => ({
  TableName: "t",
  KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
  GlobalSecondaryIndexes: projection,
});
const index = (ProjectionType: "ALL" | "KEYS_ONLY" | "INCLUDE", NonKeyAttributes?: string[]) => ({
  IndexName: "gsi1",
  KeySchema: [{ AttributeName: "gsi1pk", KeyType: "HASH" as const }],
  Projection: { ProjectionType, ...(NonKeyAttributes && { NonKeyAttributes }) },
});

describe("write units", () => {
  it("are 1 per KB of the larger of the item before and after, at least 1", () => {
    expect(writeUnits(table(), undefined, { pk: s("a") }, size)).toBe(1);
    expect(writeUnits(table(), undefined, { pk: s("a"), size: n(1025) }, size)).toBe(2);
    expect(writeUnits(table(), { pk: s("a"), size: n(3000) }, { pk: s("a"), size: n(100) }, size)).toBe(3);
    expect(writeUnits(table(), { pk: s("a"), size: n(2048) }, undefined, size)).toBe(2);
  });

  it("add a put of the index entry when the item enters the index, a delete when it leaves", () => {
    const t = table([index("ALL")]);
    expect(writeUnits(t, undefined, { pk: s("a"), gsi1pk: s("x") }, size)).toBe(2);
    expect(writeUnits(t, { pk: s("a"), gsi1pk: s("x") }, { pk: s("a") }, size)).toBe(2);
    expect(writeUnits(t, undefined, { pk: s("a") }, size)).toBe(1);
  });

  it("add a delete and a put when the entry's key changes", () => {
    const t = table([index("KEYS_ONLY")]);
    expect(writeUnits(t, { pk: s("a"), gsi1pk: s("x") }, { pk: s("a"), gsi1pk: s("y") }, size)).toBe(3);
  });

  it("add an update when a projected attribute changes, nothing when none does", () => {
    const before = { pk: s("a"), gsi1pk: s("x"), ingestId: s("i"), status: s("RECEIVED") };
    const after = { ...before, status: s("NORMALIZED") };
    expect(writeUnits(table([index("ALL")]), before, after, size)).toBe(2);
    expect(writeUnits(table([index("KEYS_ONLY")]), before, after, size)).toBe(1);
    expect(writeUnits(table([index("INCLUDE", ["ingestId"])]), before, after, size)).toBe(1);
    expect(writeUnits(table([index("INCLUDE", ["status"])]), before, after, size)).toBe(2);
  });

  it("compare values whatever their objects' prototypes", () => {
    const fromStore = Object.assign(Object.create(null), { S: "x" });
    const t = table([index("KEYS_ONLY")]);
    expect(
      writeUnits(t, { pk: s("a"), gsi1pk: fromStore }, { pk: s("a"), gsi1pk: s("x"), other: s("o") }, size),
    ).toBe(1);
  });
});

describe("read units", () => {
  it("are 1 per 4 KB when consistent, half when not, and bill a read that finds nothing", () => {
    expect(readUnits({ size: n(100) }, true, size)).toBe(1);
    expect(readUnits({ size: n(100) }, false, size)).toBe(0.5);
    expect(readUnits({ size: n(4097) }, true, size)).toBe(2);
    expect(readUnits(undefined, false, size)).toBe(0.5);
  });
});
