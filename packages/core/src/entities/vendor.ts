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
        /** Set by `dvss vendor pause`: while present, the vendor's posts get 403 VENDOR_PAUSED. */
        pausedAt: { type: "string" },
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
 * One API key of a vendor or a consumer, stored only as its SHA-256 hash and looked up by it. A
 * rotated key keeps an `expiresAt` so both keys work during the overlap. `vendorId` is the key's
 * owner: the vendor's id, or for a consumer key the consumer's name (entities/consumer.ts).
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

/**
 * A vendor's secrets for signed requests (docs/contract/README.md, "Signed requests"), present only
 * while signing is enabled. Kept apart from the profile so that what reads profiles (the workflow's
 * tasks, mapping sources) never loads them. The server computes HMACs with them, so they are stored
 * as issued, never hashed; they are never logged or shown again (docs/operations/runbook.md).
 * During a rotation the previous secret carries an `expiresAt`.
 */
export const vendorSigningEntity = (config: EntityConfiguration) =>
  new Entity(
    {
      model: { entity: "vendorSigning", version: "1", service: "dvss" },
      attributes: {
        vendorId: { type: "string", required: true, readOnly: true },
        secrets: {
          type: "list",
          required: true,
          items: {
            type: "map",
            properties: {
              secret: { type: "string", required: true },
              createdAt: { type: "string", required: true },
              expiresAt: { type: "string" },
            },
          },
        },
        updatedAt: { type: "string", required: true },
      },
      indexes: {
        // A partition of its own (`signing#<vendorId>`), apart from the profile's, so an IAM policy
        // can deny these items (dynamodb:LeadingKeys) to roles that read profiles.
        signing: {
          // biome-ignore lint/suspicious/noTemplateCurlyInString: ElectroDB's key template, not JavaScript's
          pk: { field: "pk", composite: ["vendorId"], template: "signing#${vendorId}", casing: "none" },
          sk: { field: "sk", composite: [], template: "secrets", casing: "none" },
        },
      },
    },
    config,
  );

export type VendorSigningItem = EntityItem<ReturnType<typeof vendorSigningEntity>>;
