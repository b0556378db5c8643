import { Entity, type EntityConfiguration, type EntityItem } from "electrodb";
import { MATCH_KINDS } from "../crosswalk.ts";

/**
 * One crosswalk entry (core/crosswalk.ts): (vendorId, kind, vendorKey) → canonical id. In the
 * vendor's partition of the Vendors table, so the Match task reads a vendor's whole crosswalk with
 * one Query. A removed entry stays, without a canonical id, to keep its history.
 */
export const crosswalkEntity = (config: EntityConfiguration) =>
  new Entity(
    {
      model: { entity: "crosswalk", version: "1", service: "dvss" },
      attributes: {
        vendorId: { type: "string", required: true, readOnly: true },
        kind: { type: MATCH_KINDS, required: true, readOnly: true },
        vendorKey: { type: "string", required: true, readOnly: true },
        /** Absent once removed. */
        canonicalId: { type: "string" },
        unit: { type: "string" },
        vendorUnit: { type: "string" },
        factor: { type: "number" },
        version: { type: "number", required: true },
        updatedAt: { type: "string", required: true },
        updatedBy: { type: "string", required: true },
        /** The latest changes, oldest first (MAX_ENTRY_HISTORY). */
        history: {
          type: "list",
          required: true,
          items: {
            type: "map",
            properties: {
              version: { type: "number", required: true },
              at: { type: "string", required: true },
              by: { type: "string", required: true },
              canonicalId: { type: "string" },
            },
          },
        },
      },
      indexes: {
        byVendor: {
          pk: { field: "pk", composite: ["vendorId"], casing: "none" },
          sk: { field: "sk", composite: ["kind", "vendorKey"], casing: "none" },
        },
      },
    },
    config,
  );

export type CrosswalkItem = EntityItem<ReturnType<typeof crosswalkEntity>>;
