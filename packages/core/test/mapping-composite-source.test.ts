import { describe, expect, it } from "vitest";
import { createCompositeSource } from "../src/mapping/composite-source.ts";
import type { MappingVersionDefinition, VendorProfile } from "../src/mapping/definitions.ts";
import { createMappingEngine } from "../src/mapping/engine.ts";
import { createInMemorySource } from "../src/mapping/memory-source.ts";
import { definitionsCacheMs, mappingContentSha256 } from "../src/mapping/store-source.ts";

const profile = (vendorId: string, activeVersions?: Record<string, string>): VendorProfile => ({
  vendorId,
  name: vendorId,
  priority: 10,
  rateLimitPerSecond: 100,
  ...(activeVersions && { activeVersions }),
});

const version = (
  vendorId: string,
  eventType: string,
  v: string,
  mapping = "{}",
): MappingVersionDefinition => ({
  vendorId,
  eventType,
  version: v,
  payloadSchema: { type: "object" },
  mapping,
});

describe("the composite of bundled and published definitions", () => {
  it("adds published versions to the bundled ones and lets the last publish choose the active one", async () => {
    const bundled = createInMemorySource({
      vendors: [profile("vendorA")],
      versions: [version("vendorA", "inventory_update", "1"), version("vendorA", "inventory_update", "3")],
    });
    const published = createInMemorySource({
      vendors: [profile("vendorA", { inventory_update: "2" })],
      versions: [version("vendorA", "inventory_update", "2"), version("vendorA", "order_created", "1")],
    });
    const engine = createMappingEngine({ source: createCompositeSource({ bundled, published }) });

    const vendor = await createCompositeSource({ bundled, published }).loadVendor("vendorA");

    expect(vendor?.versions).toEqual({ inventory_update: ["1", "2", "3"], order_created: ["1"] });
    expect(await engine.selectVersion({ vendorId: "vendorA", eventType: "inventory_update" })).toBe("2");
    expect(
      await engine.selectVersion({ vendorId: "vendorA", eventType: "inventory_update", schemaVersion: "3" }),
    ).toBe("3");
    expect(await engine.selectVersion({ vendorId: "vendorA", eventType: "order_created" })).toBe("1");
  });

  it("keeps the bundled default (highest version) where nothing was published", async () => {
    const bundled = createInMemorySource({
      vendors: [profile("vendorA")],
      versions: [version("vendorA", "inventory_update", "1"), version("vendorA", "inventory_update", "2")],
    });
    const source = createCompositeSource({ bundled, published: createInMemorySource() });

    expect(
      await createMappingEngine({ source }).selectVersion({
        vendorId: "vendorA",
        eventType: "inventory_update",
      }),
    ).toBe("2");
  });

  it("knows a vendor that exists only in the store (added with dvss vendor add, mappings published)", async () => {
    const published = createInMemorySource({
      vendors: [profile("vendorN", { stock: "1" })],
      versions: [version("vendorN", "stock", "1", '{"from": "store"}')],
    });
    const source = createCompositeSource({ bundled: createInMemorySource(), published });

    expect((await source.loadVendor("vendorN"))?.versions).toEqual({ stock: ["1"] });
    expect((await source.loadMappingVersion("vendorN", "stock", "1"))?.mapping).toBe('{"from": "store"}');
    expect(await source.loadVendor("nobody")).toBeUndefined();
    expect((await source.listVendors()).map((vendor) => vendor.profile.vendorId)).toEqual(["vendorN"]);
  });
});

describe("published version identity", () => {
  it("does not depend on the schema's key order or formatting, only on its content and the mapping", () => {
    const a = { payloadSchema: { type: "object", required: ["a"] }, mapping: "x" };
    const b = { payloadSchema: { required: ["a"], type: "object" }, mapping: "x" };

    expect(mappingContentSha256(a)).toBe(mappingContentSha256(b));
    expect(mappingContentSha256(a)).not.toBe(mappingContentSha256({ ...a, mapping: "x " }));
  });

  it("caches published definitions 5 s unless DVSS_DEFINITIONS_CACHE_MS says otherwise", () => {
    expect(definitionsCacheMs({})).toBe(5_000);
    expect(definitionsCacheMs({ DVSS_DEFINITIONS_CACHE_MS: "250" })).toBe(250);
    expect(definitionsCacheMs({ DVSS_DEFINITIONS_CACHE_MS: "" })).toBe(5_000);
    expect(definitionsCacheMs({ DVSS_DEFINITIONS_CACHE_MS: "-1" })).toBe(5_000);
  });
});
