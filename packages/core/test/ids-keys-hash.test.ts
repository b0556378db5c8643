import { describe, expect, it } from "vitest";
import { canonicalJson, contentHash, decideIdempotency } from "../src/hash.ts";
import { ingestDatePath, isIngestId, newIngestId } from "../src/ids.ts";
import { normalizedKey, rawDayPrefix, rawKey } from "../src/keys.ts";
import { seedEnvelope } from "./fixtures.ts";

const envelope = seedEnvelope;

describe("ingest ids and keys", () => {
  it("mints ULIDs that sort in creation order, even within one millisecond", () => {
    const now = Date.UTC(2026, 0, 30, 20, 15, 12);
    const ids = [newIngestId(now), newIngestId(now), newIngestId(now + 1)];
    expect(ids.every(isIngestId)).toBe(true);
    expect([...ids].sort()).toEqual(ids);
  });

  it("dates keys by the UTC day of the ingestId, so a replay writes the same key", () => {
    const ingestId = newIngestId(Date.UTC(2026, 0, 30, 23, 59, 59));
    expect(ingestDatePath(ingestId)).toBe("2026/01/30");
    expect(rawKey("vendorA", ingestId)).toBe(`raw/vendorA/2026/01/30/${ingestId}.json`);
    expect(normalizedKey("InventoryUpdated", ingestId)).toBe(
      `normalized/InventoryUpdated/2026/01/30/${ingestId}.json`,
    );
  });

  it("gives the raw prefix of one vendor's day", () => {
    expect(rawDayPrefix("vendorB", new Date("2026-03-04T10:00:00Z"))).toBe("raw/vendorB/2026/03/04/");
  });
});

describe("content hashing", () => {
  it("ignores key order and formatting", () => {
    const reordered = { ...envelope, payload: { warehouse: "ROA", qty: 12, sku: "ABC-001" } };
    expect(contentHash(reordered)).toBe(contentHash(envelope));
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[1,{"c":2,"d":1}]}');
  });

  it.each([
    ["eventType", { ...envelope, eventType: "inventory_adjust" }],
    ["occurredAt", { ...envelope, occurredAt: "2026-01-30T20:15:13Z" }],
    ["schemaVersion", { ...envelope, schemaVersion: "2" }],
    ["payload", { ...envelope, payload: { ...envelope.payload, qty: 13 } }],
  ])("changes when %s changes", (_field, changed) => {
    expect(contentHash(changed)).not.toBe(contentHash(envelope));
  });

  it("tells an absent schemaVersion from any given one", () => {
    const { schemaVersion: _omitted, ...withoutVersion } = envelope;
    expect(contentHash(withoutVersion)).not.toBe(contentHash(envelope));
  });
});

describe("the idempotency decision", () => {
  const existing = { ingestId: "01J0000000000000000000000A", payloadSha256: "abc" };

  it("is DUPLICATE with the original ingestId for the same content", () => {
    expect(decideIdempotency(existing, "abc")).toEqual({ outcome: "DUPLICATE", ingestId: existing.ingestId });
  });

  it("is CONFLICT with the original ingestId for different content", () => {
    expect(decideIdempotency(existing, "def")).toEqual({ outcome: "CONFLICT", ingestId: existing.ingestId });
  });
});
