import { Entity, type EntityConfiguration, type EntityItem } from "electrodb";

/** A vendor's profile, from `schemas/vendors/<vendorId>/vendor.json` or `dvss vendor add`. */
export const vendorEntity = (config: EntityConfiguration) =>
  new Entity(
    {
      model: { entity: "vendor", version: "1", service: "dvss" },
      attributes: {
        vendorId: { type: "string", required: true, readOnly: true },
        name: { type: "string", required: true },
        /** Lower wins ties between events with the same occurredAt (docs/spec/canonical-state.md). */
        priority: { type: "number", required: true },
        rateLimitPerSecond: { type: "number", required: true },
        /** Active mapping version per vendor event type; absent = the highest published. */
        activeVersions: { type: "map", properties: {} },
        updatedAt: { type: "string" },
      },
      indexes: {
        vendor: {
          pk: { field: "pk", composite: ["vendorId"], casing: "none" },
          sk: { field: "sk", composite: [], casing: "none" },
        },
        all: {
          index: "gsi1",
          pk: { field: "gsi1pk", composite: [], casing: "none" },
          sk: { field: "gsi1sk", composite: ["vendorId"], casing: "none" },
        },
      },
    },
    config,
  );

export type VendorItem = EntityItem<ReturnType<typeof vendorEntity>>;

/**
 * One API key of a vendor, stored only as its SHA-256 hash and looked up by it. A rotated key
 * keeps an `expiresAt` so both keys work during the overlap.
 */
export const apiKeyEntity = (config: EntityConfiguration) =>
  new Entity(
    {
      model: { entity: "apiKey", version: "1", service: "dvss" },
      attributes: {
        keyHash: { type: "string", required: true, readOnly: true },
        vendorId: { type: "string", required: true, readOnly: true },
        /** "vendor" keys post events; "consumer" keys read state and the feed. */
        role: { type: ["vendor", "consumer"] as const, required: true, readOnly: true },
        createdAt: { type: "string", required: true, readOnly: true },
        expiresAt: { type: "string" },
      },
      indexes: {
        key: {
          pk: { field: "pk", composite: ["keyHash"], casing: "none" },
          sk: { field: "sk", composite: [], casing: "none" },
        },
        byVendor: {
          index: "gsi1",
          pk: { field: "gsi1pk", composite: ["vendorId"], casing: "none" },
          sk: { field: "gsi1sk", composite: ["createdAt"], casing: "none" },
        },
      },
    },
    config,
  );

export type ApiKeyItem = EntityItem<ReturnType<typeof apiKeyEntity>>;
