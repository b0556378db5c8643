import { describe, expect, it, vi } from "vitest";
import type { Envelope } from "../src/envelope.ts";
import {
  type DvssError,
  MappingError,
  MappingTimeoutError,
  SchemaValidationError,
  UnknownSchemaVersionError,
  VendorDefinitionError,
} from "../src/errors.ts";
import {
  compareVersions,
  type MappingVersionDefinition,
  type VendorProfile,
} from "../src/mapping/definitions.ts";
import { createMappingEngine } from "../src/mapping/engine.ts";
import { createInMemorySource } from "../src/mapping/memory-source.ts";

const vendor: VendorProfile = { vendorId: "acme", name: "Acme", priority: 30, rateLimitPerSecond: 10 };

const inventorySchema = {
  type: "object",
  properties: {
    sku: { type: "string", minLength: 1 },
    qty: { type: "integer", minimum: 0 },
    site: {
      type: "object",
      properties: { code: { type: "string" } },
      required: ["code"],
      additionalProperties: false,
    },
  },
  required: ["sku", "qty", "site"],
  additionalProperties: false,
};

function version(versionName: string, mapping: string, eventType = "stock"): MappingVersionDefinition {
  return { vendorId: "acme", eventType, version: versionName, payloadSchema: inventorySchema, mapping };
}

const mapsTo = (tag: string) =>
  `{"eventType": "InventoryUpdated", "data": {"warehouseId": payload.site.code, "sku": payload.sku & "${tag}", "quantityOnHand": payload.qty}}`;

function envelope(overrides: Partial<Envelope> = {}): Envelope {
  return {
    vendorId: "acme",
    externalEventId: "e-1",
    eventType: "stock",
    occurredAt: "2026-01-30T20:15:12Z",
    payload: { sku: "A", qty: 3, site: { code: "W1" } },
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<DvssError> {
  try {
    await promise;
  } catch (error) {
    return error as DvssError;
  }
  throw new Error("expected a failure");
}

describe("compareVersions", () => {
  it("orders version names numerically where they are numbers", () => {
    const sorted = ["10", "2", "1", "1.10", "1.9", "1.2", "2b", "2a"].sort(compareVersions);

    expect(sorted).toEqual(["1", "1.2", "1.9", "1.10", "2", "2a", "2b", "10"]);
  });
});

describe("version selection", () => {
  it("uses the highest version when the envelope gives none and vendor.json names none", async () => {
    const source = createInMemorySource({
      vendors: [vendor],
      versions: [version("2", mapsTo("v2")), version("10", mapsTo("v10")), version("9", mapsTo("v9"))],
    });
    const engine = createMappingEngine({ source });

    const selected = await engine.validatePayload(envelope());
    const mapped = await engine.mapEvent(envelope(), selected.mappingVersion);

    expect(selected).toEqual({ mappingVersion: "10" });
    expect(mapped).toEqual({
      standardEventType: "InventoryUpdated",
      data: { warehouseId: "W1", sku: "Av10", quantityOnHand: 3 },
      mappingVersion: "10",
    });
  });

  it("uses the version vendor.json names active for the event type", async () => {
    const source = createInMemorySource({
      vendors: [{ ...vendor, activeVersions: { stock: "1" } }],
      versions: [version("1", mapsTo("v1")), version("2", mapsTo("v2"))],
    });
    const engine = createMappingEngine({ source });

    const selected = await engine.validatePayload(envelope());

    expect(selected).toEqual({ mappingVersion: "1" });
  });

  it("uses the envelope's schemaVersion over the active one", async () => {
    const source = createInMemorySource({
      vendors: [{ ...vendor, activeVersions: { stock: "1" } }],
      versions: [version("1", mapsTo("v1")), version("2", mapsTo("v2"))],
    });
    const engine = createMappingEngine({ source });

    const selected = await engine.validatePayload(envelope({ schemaVersion: "2" }));

    expect(selected).toEqual({ mappingVersion: "2" });
  });

  it("follows a newly published version without a new engine", async () => {
    const source = createInMemorySource({ vendors: [vendor], versions: [version("1", mapsTo("v1"))] });
    const engine = createMappingEngine({ source });
    await engine.validatePayload(envelope());

    source.putMappingVersion(version("2", mapsTo("v2")));
    const selected = await engine.validatePayload(envelope());

    expect(selected).toEqual({ mappingVersion: "2" });
  });

  it("rejects an unknown schemaVersion, naming the vendor, event type and available versions", async () => {
    const source = createInMemorySource({
      vendors: [vendor],
      versions: [version("1", mapsTo("v1")), version("2", mapsTo("v2"))],
    });
    const engine = createMappingEngine({ source });

    const error = await failure(engine.validatePayload(envelope({ schemaVersion: "3" })));

    expect(error).toBeInstanceOf(UnknownSchemaVersionError);
    expect(error.code).toBe("UNKNOWN_SCHEMA_VERSION");
    expect(error.message).toBe('Vendor acme has no version "3" of event type "stock" (available: 1, 2)');
    expect(error.details).toEqual([
      { path: "schemaVersion", message: 'unknown version "3"; available: 1, 2' },
    ]);
  });

  it("rejects an event type the vendor has no mapping for as an unknown schema version", async () => {
    const source = createInMemorySource({ vendors: [vendor], versions: [version("1", mapsTo("v1"))] });
    const engine = createMappingEngine({ source });

    const error = await failure(engine.validatePayload(envelope({ eventType: "stock_take" })));

    expect(error).toBeInstanceOf(UnknownSchemaVersionError);
    expect(error.message).toBe(
      'Vendor acme has no mapping for event type "stock_take" (known event types: stock)',
    );
    expect(error.details).toEqual([
      { path: "eventType", message: 'no mapping for "stock_take"; known: stock' },
    ]);
  });

  it("rejects a vendor without definitions as an unknown schema version", async () => {
    const engine = createMappingEngine({ source: createInMemorySource() });

    const error = await failure(engine.validatePayload(envelope()));

    expect(error).toBeInstanceOf(UnknownSchemaVersionError);
    expect(error.message).toBe("Vendor acme has no mapping definitions");
  });

  it("reports an active version that does not exist as a broken vendor definition", async () => {
    const source = createInMemorySource({
      vendors: [{ ...vendor, activeVersions: { stock: "7" } }],
      versions: [version("1", mapsTo("v1"))],
    });
    const engine = createMappingEngine({ source });

    const error = await failure(engine.validatePayload(envelope()));

    expect(error).toBeInstanceOf(VendorDefinitionError);
    expect(error.details).toEqual([{ path: "activeVersions.stock", message: 'version "7" does not exist' }]);
  });

  it("rejects mapping with a version the source does not have", async () => {
    const source = createInMemorySource({ vendors: [vendor], versions: [version("1", mapsTo("v1"))] });
    const engine = createMappingEngine({ source });

    const error = await failure(engine.mapEvent(envelope(), "4"));

    expect(error).toBeInstanceOf(UnknownSchemaVersionError);
    expect(error.message).toBe("No mapping acme/stock/4");
  });
});

describe("payload validation", () => {
  const engine = createMappingEngine({
    source: createInMemorySource({ vendors: [vendor], versions: [version("1", mapsTo(""))] }),
  });

  it("names each violated field as payload.<path>, and the schema in the message", async () => {
    const error = await failure(
      engine.validatePayload(envelope({ payload: { sku: "A", qty: "3", site: { code: 7, floor: 2 } } })),
    );

    expect(error).toBeInstanceOf(SchemaValidationError);
    expect(error.code).toBe("SCHEMA_VALIDATION_FAILED");
    expect(error.message).toMatch(/^Payload does not match acme\/stock\/1: /);
    expect(error.details).toEqual([
      { path: "payload.qty", message: "must be integer" },
      { path: "payload.site.floor", message: "unknown field" },
      { path: "payload.site.code", message: "must be string" },
    ]);
  });

  it("names a missing field by its own path", async () => {
    const error = await failure(
      engine.validatePayload(envelope({ payload: { qty: 1, site: { code: "W" } } })),
    );

    expect(error.details).toEqual([{ path: "payload.sku", message: "is required" }]);
  });

  it("accepts a payload that matches", async () => {
    const result = await engine.validatePayload(envelope());

    expect(result).toEqual({ mappingVersion: "1" });
  });
});

describe("mapping", () => {
  const engineFor = (mapping: string, limits?: { timeoutMs: number }) =>
    createMappingEngine({
      source: createInMemorySource({ vendors: [vendor], versions: [version("1", mapping)] }),
      ...(limits && { limits }),
    });

  it("reports a mapping that throws with the mapping's name and JSONata's code, position and token", async () => {
    const engine = engineFor(
      '{"eventType": "InventoryUpdated", "data": {"warehouseId": "W", "sku": "A", "quantityOnHand": payload.sku + 1}}',
    );

    const error = await failure(engine.mapEvent(envelope(), "1"));

    expect(error).toBeInstanceOf(MappingError);
    expect(error.code).toBe("MAPPING_FAILED");
    expect(error.message).toBe(
      'Mapping acme/stock/1 failed: T2001 at position 106, token "+": The left side of the "+" operator must evaluate to a number',
    );
    expect(error.details).toEqual([
      {
        path: "mapping",
        message:
          'T2001 at position 106, token "+": The left side of the "+" operator must evaluate to a number',
      },
    ]);
  });

  it("reports an output that is not a valid standard event with the field's path", async () => {
    const engine = engineFor(
      '{"eventType": "InventoryUpdated", "data": {"warehouseId": payload.site.code, "sku": payload.sku, "quantityOnHand": -payload.qty}}',
    );

    const error = await failure(engine.mapEvent(envelope(), "1"));

    expect(error).toBeInstanceOf(MappingError);
    expect(error.message).toMatch(/^Mapping acme\/stock\/1 produced an invalid standard event: /);
    expect(error.details).toEqual([{ path: "data.quantityOnHand", message: "must be 0 or more" }]);
  });

  it("reports an output with an unknown standard event type", async () => {
    const engine = engineFor('{"eventType": "StockCounted", "data": {}}');

    const error = await failure(engine.mapEvent(envelope(), "1"));

    expect(error.details).toEqual([
      {
        path: "eventType",
        message: "must be one of InventoryUpdated InventoryAdjusted OrderCreated OrderStatusChanged",
      },
    ]);
  });

  it("requires the output to be exactly {eventType, data}", async () => {
    const engine = engineFor('{"eventType": "InventoryUpdated", "payload": payload}');

    const error = await failure(engine.mapEvent(envelope(), "1"));

    expect(error).toBeInstanceOf(MappingError);
    expect(error.details).toEqual([
      { path: "payload", message: "unknown field" },
      { path: "data", message: "is required" },
    ]);
  });

  it("reports a mapping that produces nothing", async () => {
    const engine = engineFor("payload.missing");

    const error = await failure(engine.mapEvent(envelope(), "1"));

    expect(error).toBeInstanceOf(MappingError);
    expect(error.details).toEqual([
      { path: "$", message: "must be an object {eventType, data}, got nothing" },
    ]);
  });

  it("stops a mapping that runs longer than its time limit, saying so", async () => {
    const engine = engineFor("($loop := function($n) { $loop($n + 1) }; $loop(0))", { timeoutMs: 50 });

    const error = await failure(engine.mapEvent(envelope(), "1"));

    expect(error).toBeInstanceOf(MappingTimeoutError);
    expect(error.code).toBe("MAPPING_TIMEOUT");
    expect(error.message).toBe("Mapping acme/stock/1 ran longer than 50 ms and was stopped");
  });

  it.each(["$now()", "$millis()", "$random()", '$eval("1 + 1")'])(
    "refuses a mapping that uses %s (not deterministic, or evaluates text)",
    async (call) => {
      const engine = engineFor(`{"eventType": "InventoryUpdated", "data": {"sku": ${call}}}`);

      const error = await failure(engine.mapEvent(envelope(), "1"));

      expect(error).toBeInstanceOf(VendorDefinitionError);
      expect(error.message).toMatch(/^Mapping acme\/stock\/1 uses \$/);
    },
  );

  it("never evaluates envelope content as an expression", async () => {
    const engine = engineFor(
      '{"eventType": "OrderStatusChanged", "data": {"orderId": payload.sku, "status": "ACKED"}}',
    );

    const mapped = await engine.mapEvent(envelope({ payload: { sku: '$string(1 + 1) & "x"' } }), "1");

    expect(mapped.data).toEqual({ orderId: '$string(1 + 1) & "x"', status: "ACKED" });
  });

  it("reports a mapping that does not compile as a broken vendor definition", async () => {
    const engine = engineFor('{"eventType": "InventoryUpdated" "data": {}}');

    const error = await failure(engine.mapEvent(envelope(), "1"));

    expect(error).toBeInstanceOf(VendorDefinitionError);
    expect(error.code).toBe("INVALID_VENDOR_DEFINITION");
    expect(error.message).toBe(
      'Mapping acme/stock/1 does not compile: S0202 at position 39, token "data": Expected "}", got "data"',
    );
  });

  it("reports a payload schema ajv cannot compile as a broken vendor definition", async () => {
    const source = createInMemorySource({
      vendors: [vendor],
      versions: [{ ...version("1", mapsTo("")), payloadSchema: { type: "object", propertiez: {} } }],
    });
    const engine = createMappingEngine({ source });

    const error = await failure(engine.validatePayload(envelope()));

    expect(error).toBeInstanceOf(VendorDefinitionError);
    expect(error.message).toMatch(/^Payload schema acme\/stock\/1 is invalid: .*propertiez/);
  });
});

describe("compiled version cache", () => {
  it("compiles each version once and reuses the same compiled object", async () => {
    const source = createInMemorySource({ vendors: [vendor], versions: [version("1", mapsTo(""))] });
    const loadMappingVersion = vi.spyOn(source, "loadMappingVersion");
    const engine = createMappingEngine({ source });

    const [first, second] = await Promise.all([
      engine.compiled("acme", "stock", "1"),
      engine.compiled("acme", "stock", "1"),
    ]);
    await engine.validatePayload(envelope());
    await engine.mapEvent(envelope(), "1");
    const third = await engine.compiled("acme", "stock", "1");

    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(loadMappingVersion).toHaveBeenCalledTimes(1);
  });

  it("keeps versions apart by vendor, event type and version", async () => {
    const source = createInMemorySource({
      vendors: [vendor],
      versions: [version("1", mapsTo("")), version("2", mapsTo("")), version("1", mapsTo(""), "stock_take")],
    });
    const engine = createMappingEngine({ source });

    const ids = [
      (await engine.compiled("acme", "stock", "1")).id,
      (await engine.compiled("acme", "stock", "2")).id,
      (await engine.compiled("acme", "stock_take", "1")).id,
    ];

    expect(ids).toEqual(["acme/stock/1", "acme/stock/2", "acme/stock_take/1"]);
  });

  it("does not keep a failed compilation, so a fixed definition is picked up", async () => {
    const source = createInMemorySource({ vendors: [vendor], versions: [version("1", "{")] });
    const engine = createMappingEngine({ source });
    await failure(engine.compiled("acme", "stock", "1"));

    source.putMappingVersion(version("1", mapsTo("")));
    const compiled = await engine.compiled("acme", "stock", "1");

    expect(compiled.id).toBe("acme/stock/1");
  });

  it("keeps at most maxCompiledVersions, dropping the least recently used", async () => {
    const source = createInMemorySource({
      vendors: [vendor],
      versions: [version("1", mapsTo("")), version("2", mapsTo("")), version("3", mapsTo(""))],
    });
    const loadMappingVersion = vi.spyOn(source, "loadMappingVersion");
    const engine = createMappingEngine({ source, maxCompiledVersions: 2 });
    const one = await engine.compiled("acme", "stock", "1");
    await engine.compiled("acme", "stock", "2");

    // 1 used again, so 2 is the least recently used when 3 comes in.
    expect(await engine.compiled("acme", "stock", "1")).toBe(one);
    await engine.compiled("acme", "stock", "3");
    expect(await engine.compiled("acme", "stock", "1")).toBe(one);
    await engine.compiled("acme", "stock", "2");

    expect(loadMappingVersion.mock.calls.map((call) => call[2])).toEqual(["1", "2", "3", "2"]);
  });

  it("compiles again after clearCache", async () => {
    const source = createInMemorySource({ vendors: [vendor], versions: [version("1", mapsTo(""))] });
    const engine = createMappingEngine({ source });
    const before = await engine.compiled("acme", "stock", "1");

    engine.clearCache();
    const after = await engine.compiled("acme", "stock", "1");

    expect(after).not.toBe(before);
  });
});

describe("the file-system source's cache", () => {
  it("reads a vendor folder once per cache period, and again after it", async () => {
    const { cpSync, mkdtempSync, writeFileSync, readFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { createFileSystemSource } = await import("../src/mapping/fs-source.ts");
    const dir = mkdtempSync(join(tmpdir(), "dvss-fs-cache-"));
    cpSync(join(import.meta.dirname, "../../../schemas/vendors/vendorA"), join(dir, "vendorA"), {
      recursive: true,
    });
    let clock = 1_000;
    const source = createFileSystemSource(dir, { cacheMs: 5_000, now: () => clock });
    const vendorFile = join(dir, "vendorA/vendor.json");
    const renamed = { ...JSON.parse(readFileSync(vendorFile, "utf8")), name: "Renamed" };

    const first = await source.loadVendor("vendorA");
    writeFileSync(vendorFile, JSON.stringify(renamed));
    const cached = await source.loadVendor("vendorA");
    clock += 5_001;
    const reread = await source.loadVendor("vendorA");

    expect(cached).toBe(first);
    expect(reread?.profile.name).toBe("Renamed");
  });
});
