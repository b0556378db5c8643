import { readdirSync, readFileSync } from "node:fs";
import { join, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { validateEnvelope } from "../src/envelope.ts";
import { rawKey } from "../src/keys.ts";
import { checkExamples } from "../src/mapping/check.ts";
import { createMappingEngine } from "../src/mapping/engine.ts";
import { createFileSystemSource } from "../src/mapping/fs-source.ts";
import { buildNormalizedDocument, type NormalizedDocument, serializeNormalized } from "../src/normalized.ts";
import { seedEnvelope } from "./fixtures.ts";

const vendorsDir = join(import.meta.dirname, "..", "..", "..", "schemas", "vendors");
const engine = createMappingEngine({ source: createFileSystemSource(vendorsDir) });

// Every `<vendor>/<eventType>/<version>/examples/<name>.input.json` of the tree.
const examples = readdirSync(vendorsDir, { recursive: true, encoding: "utf8" })
  .filter((path) => path.split(sep).at(-2) === "examples" && path.endsWith(".input.json"))
  .sort()
  .map((path) => {
    const [vendorId, eventType, version] = path.split(sep) as [string, string, string];
    return { name: path, vendorId, eventType, version, inputPath: join(vendorsDir, path) };
  });

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, "utf8"));

describe("golden examples of schemas/vendors", () => {
  it("covers every event type version of the seed vendors", () => {
    const versions = new Set(
      examples.map((example) => `${example.vendorId}/${example.eventType}/${example.version}`),
    );

    expect([...versions]).toEqual(
      expect.arrayContaining([
        "vendorA/inventory_adjust/1",
        "vendorA/inventory_update/1",
        "vendorA/order_created/1",
        "vendorA/order_status/1",
        "vendorB/order_placed/1",
        "vendorB/order_state/1",
        "vendorB/stock_movement/1",
        "vendorB/stock_snapshot/1",
        "vendorB/stock_snapshot/2",
      ]),
    );
  });

  it.each(examples)("$name maps to its expected normalized document", async (example) => {
    const envelope = validateEnvelope(readJson(example.inputPath));
    const expected = readJson(example.inputPath.replace(/\.input\.json$/, ".expected.json")) as object;
    const ingestId = "01KG6ZC8G0VJ3Q0Y7N1M4B2T5R";
    const rawRef = { bucket: "dvss-raw", key: rawKey(envelope.vendorId, ingestId) };

    // An example tests its own folder's version, also when its envelope leaves schemaVersion out.
    const { mappingVersion } = await engine.validatePayload({ ...envelope, schemaVersion: example.version });
    const mapped = await engine.mapEvent(envelope, mappingVersion);
    const doc = buildNormalizedDocument({
      ingestId,
      envelope,
      standardEventType: mapped.standardEventType,
      data: mapped.data,
      rawRef,
    });

    expect(doc).toEqual({ ingestId, ...expected, rawRef });
    expect(serializeNormalized(doc)).toBe(
      serializeNormalized({ ingestId, ...expected, rawRef } as NormalizedDocument),
    );
  });

  it("the seed envelope maps to the contract's normalized document", async () => {
    const envelope = validateEnvelope(seedEnvelope);

    const { mappingVersion } = await engine.validatePayload(envelope);
    const mapped = await engine.mapEvent(envelope, mappingVersion);

    expect(mapped).toEqual({
      standardEventType: "InventoryUpdated",
      data: { warehouseId: "ROA", sku: "ABC-001", quantityOnHand: 12 },
      mappingVersion: "1",
    });
  });

  it("checkExamples passes every example of the tree", async () => {
    const report = await checkExamples(vendorsDir);

    expect(report.results.filter((result) => !result.passed)).toEqual([]);
    expect(report).toMatchObject({ passed: true, total: examples.length, failed: 0 });
  });
});

describe("vendorB stock_snapshot versions", () => {
  const envelope = (schemaVersion?: string) => ({
    vendorId: "vendorB",
    externalEventId: "B-SNAP-1",
    eventType: "stock_snapshot",
    occurredAt: "2026-01-30T20:15:12Z",
    ...(schemaVersion && { schemaVersion }),
    payload: { item: { code: "ABC-001" }, on_hand: 7, location: { code: "ROA" } },
  });

  it("uses version 2, the highest, when the envelope names none", async () => {
    const result = await engine.validatePayload(envelope());

    expect(result).toEqual({ mappingVersion: "2" });
  });

  it("still maps version 1 payloads that say so", async () => {
    const v1 = {
      ...envelope("1"),
      payload: { item_code: "ABC-001", on_hand: "7", location: { code: "ROA" } },
    };

    const { mappingVersion } = await engine.validatePayload(v1);
    const mapped = await engine.mapEvent(v1, mappingVersion);

    expect(mapped).toEqual({
      standardEventType: "InventoryUpdated",
      data: { warehouseId: "ROA", sku: "ABC-001", quantityOnHand: 7 },
      mappingVersion: "1",
    });
  });

  it("rejects a version 1 payload sent without schemaVersion, naming the version 2 schema", async () => {
    const v1WithoutVersion = {
      ...envelope(),
      payload: { item_code: "ABC-001", on_hand: "7", location: { code: "ROA" } },
    };

    const attempt = engine.validatePayload(v1WithoutVersion);

    await expect(attempt).rejects.toMatchObject({
      name: "SchemaValidationError",
      message: expect.stringMatching(/^Payload does not match vendorB\/stock_snapshot\/2: /),
      details: expect.arrayContaining([
        { path: "payload.item", message: "is required" },
        { path: "payload.item_code", message: "unknown field" },
      ]),
    });
  });

  it("rejects an unknown version, listing the available ones", async () => {
    const attempt = engine.validatePayload(envelope("3"));

    await expect(attempt).rejects.toMatchObject({
      name: "UnknownSchemaVersionError",
      message: 'Vendor vendorB has no version "3" of event type "stock_snapshot" (available: 1, 2)',
    });
  });

  it("names a string quantity that is not a whole number at its payload path", async () => {
    const v1 = {
      ...envelope("1"),
      payload: { item_code: "ABC-001", on_hand: "12.5", location: { code: "ROA" } },
    };

    const attempt = engine.validatePayload(v1);

    await expect(attempt).rejects.toMatchObject({
      name: "SchemaValidationError",
      details: [{ path: "payload.on_hand", message: 'must match pattern "^[0-9]{1,15}$"' }],
    });
  });
});
