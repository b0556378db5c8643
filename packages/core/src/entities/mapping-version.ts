import { Entity, type EntityConfiguration, type EntityItem } from "electrodb";

/**
 * One published version of a vendor event type's definition (`dvss mapping publish`): its payload
 * schema and JSONata mapping, immutable once written. Lives in the Vendors table beside the
 * vendor's profile and keys, in the vendor's partition, so one query lists a vendor's versions.
 */
export const mappingVersionEntity = (config: EntityConfiguration) =>
  new Entity(
    {
      model: { entity: "mappingVersion", version: "1", service: "dvss" },
      attributes: {
        vendorId: { type: "string", required: true, readOnly: true },
        eventType: { type: "string", required: true, readOnly: true },
        version: { type: "string", required: true, readOnly: true },
        /** The payload JSON Schema, as JSON text (kept verbatim: DynamoDB maps lose nothing, but text is what was reviewed). */
        payloadSchema: { type: "string", required: true, readOnly: true },
        mapping: { type: "string", required: true, readOnly: true },
        /** sha256 of the canonical content: tells an identical re-publish (no-op) from a conflicting one. */
        contentSha256: { type: "string", required: true, readOnly: true },
        /** Golden examples that passed when it was published. */
        examples: { type: "number", required: true, readOnly: true },
        publishedAt: { type: "string", required: true, readOnly: true },
      },
      indexes: {
        version: {
          pk: { field: "pk", composite: ["vendorId"], casing: "none" },
          sk: { field: "sk", composite: ["eventType", "version"], casing: "none" },
        },
      },
    },
    config,
  );

export type MappingVersionItem = EntityItem<ReturnType<typeof mappingVersionEntity>>;

/**
 * Which version of a vendor event type is active, set by the last publish. Its own item (not a map
 * on the vendor) so publishing two event types at once cannot lose one of the writes.
 */
export const activeMappingEntity = (config: EntityConfiguration) =>
  new Entity(
    {
      model: { entity: "activeMapping", version: "1", service: "dvss" },
      attributes: {
        vendorId: { type: "string", required: true, readOnly: true },
        eventType: { type: "string", required: true, readOnly: true },
        version: { type: "string", required: true },
        previousVersion: { type: "string" },
        activatedAt: { type: "string", required: true },
      },
      indexes: {
        active: {
          pk: { field: "pk", composite: ["vendorId"], casing: "none" },
          sk: { field: "sk", composite: ["eventType"], casing: "none" },
        },
      },
    },
    config,
  );

export type ActiveMappingItem = EntityItem<ReturnType<typeof activeMappingEntity>>;
