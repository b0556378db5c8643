import { describe, expect, it } from "vitest";
import type { Envelope } from "../src/envelope.ts";
import { MappingError } from "../src/errors.ts";
import {
  buildNormalizedDocument,
  type NormalizedDocument,
  normalizedBody,
  serializeNormalized,
} from "../src/normalized.ts";
import { seedEnvelope } from "./fixtures.ts";

const envelope: Envelope = seedEnvelope;
const ingestId = "01KFKQ7W5G7Z7Y4H3P0R9X2N6D";
const rawRef = { bucket: "dvss-raw", key: `raw/vendorA/2026/01/30/${ingestId}.json` };

describe("buildNormalizedDocument", () => {
  it("builds the document of the contract with its keys in the contract's order", () => {
    const doc = buildNormalizedDocument({
      ingestId,
      envelope,
      standardEventType: "InventoryUpdated",
      data: { warehouseId: "ROA", sku: "ABC-001", quantityOnHand: 12 },
      rawRef,
    });

    expect(Object.keys(doc)).toEqual([
      "ingestId",
      "vendorId",
      "externalEventId",
      "eventType",
      "schemaVersion",
      "occurredAt",
      "data",
      "rawRef",
    ]);
    expect(doc).toEqual({
      ingestId,
      vendorId: "vendorA",
      externalEventId: "inv-12345",
      eventType: "InventoryUpdated",
      schemaVersion: "1.0",
      occurredAt: "2026-01-30T20:15:12Z",
      data: { warehouseId: "ROA", sku: "ABC-001", quantityOnHand: 12 },
      rawRef,
    });
  });

  it("passes occurredAt through exactly as the vendor sent it", () => {
    const doc = buildNormalizedDocument({
      ingestId,
      envelope: { ...envelope, occurredAt: "2026-01-30T22:15:12.250+02:00" },
      standardEventType: "OrderStatusChanged",
      data: { orderId: "SO-1", status: "ACKED" },
      rawRef,
    });

    expect(doc.occurredAt).toBe("2026-01-30T22:15:12.250+02:00");
  });

  it("puts data and rawRef keys in a fixed order and drops extra rawRef fields", () => {
    const doc = buildNormalizedDocument({
      ingestId,
      envelope,
      standardEventType: "OrderCreated",
      data: { warehouseId: "ROA", lines: [{ quantity: 1, sku: "A" }], orderId: "SO-1" },
      rawRef: { key: rawRef.key, bucket: rawRef.bucket, versionId: "3" } as typeof rawRef,
    });

    expect(Object.keys(doc.data)).toEqual(["orderId", "lines", "warehouseId"]);
    expect(JSON.stringify(doc.data)).toBe(
      '{"orderId":"SO-1","lines":[{"sku":"A","quantity":1}],"warehouseId":"ROA"}',
    );
    expect(JSON.stringify(doc.rawRef)).toBe(JSON.stringify(rawRef));
  });

  it("refuses data that is not a valid standard event", () => {
    const build = () =>
      buildNormalizedDocument({
        ingestId,
        envelope,
        standardEventType: "InventoryUpdated",
        data: { warehouseId: "ROA", sku: "ABC-001", quantityOnHand: -1 },
        rawRef,
      });

    expect(build).toThrow(MappingError);
  });
});

describe("serializeNormalized", () => {
  const doc = buildNormalizedDocument({
    ingestId,
    envelope,
    standardEventType: "InventoryUpdated",
    data: { warehouseId: "ROA", sku: "ABC-001", quantityOnHand: 12 },
    rawRef,
  });

  it("writes 2-space indented JSON with one trailing newline", () => {
    const bytes = serializeNormalized(doc);

    expect(bytes).toBe(
      [
        "{",
        `  "ingestId": "${ingestId}",`,
        '  "vendorId": "vendorA",',
        '  "externalEventId": "inv-12345",',
        '  "eventType": "InventoryUpdated",',
        '  "schemaVersion": "1.0",',
        '  "occurredAt": "2026-01-30T20:15:12Z",',
        '  "data": {',
        '    "warehouseId": "ROA",',
        '    "sku": "ABC-001",',
        '    "quantityOnHand": 12',
        "  },",
        '  "rawRef": {',
        '    "bucket": "dvss-raw",',
        `    "key": "raw/vendorA/2026/01/30/${ingestId}.json"`,
        "  }",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("gives the same bytes for the same document every time", () => {
    const first = serializeNormalized(doc);
    const second = serializeNormalized(structuredClone(doc));

    expect(second).toBe(first);
  });

  it("gives the same bytes for a document read back with its keys in another order", () => {
    const reordered = JSON.parse(
      JSON.stringify({
        rawRef: { key: doc.rawRef.key, bucket: doc.rawRef.bucket },
        data: { quantityOnHand: 12, sku: "ABC-001", warehouseId: "ROA" },
        occurredAt: doc.occurredAt,
        schemaVersion: doc.schemaVersion,
        eventType: doc.eventType,
        externalEventId: doc.externalEventId,
        vendorId: doc.vendorId,
        ingestId: doc.ingestId,
      }),
    ) as NormalizedDocument;

    const bytes = serializeNormalized(reordered);

    expect(bytes).toBe(serializeNormalized(doc));
  });
  it("gives the bytes the Map task writes (normalizedBody of the document it just built, not rebuilt)", () => {
    const built = buildNormalizedDocument({
      ingestId,
      envelope,
      standardEventType: "InventoryUpdated",
      // The mapping's output order; the builder puts the schema's order back.
      data: { quantityOnHand: 12, sku: "ABC-001", warehouseId: "ROA" },
      rawRef,
    });

    expect(normalizedBody(built)).toBe(serializeNormalized(doc));
  });
});
