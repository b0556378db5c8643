import { Entity, type EntityConfiguration, type EntityItem } from "electrodb";

/**
 * The event log of one canonical entity (docs/spec/canonical-state.md, "The event log"): one small
 * item per event applied to it, in the CanonicalState table, sorted by the event's instant, so the
 * events of an entity are read in fold order, or from a position onward, with one Query. Written
 * once per event from the state item's pending change (state/log.ts), so a rerun rewrites the same
 * item.
 */
export const entityEventEntity = (config: EntityConfiguration) =>
  new Entity(
    {
      model: { entity: "entityEvent", version: "1", service: "dvss" },
      attributes: {
        entityType: { type: ["inventory", "order"] as const, required: true, readOnly: true },
        /** The entity key of the feed and divergences: unambiguous (inventoryKey, an orderId). */
        entityKey: { type: "string", required: true, readOnly: true },
        /** occurredAt as a sortable UTC instant (fold-position.ts instantOf). */
        at: { type: "string", required: true, readOnly: true },
        ingestId: { type: "string", required: true, readOnly: true },
        vendorId: { type: "string", required: true },
        externalEventId: { type: "string", required: true },
        occurredAt: { type: "string", required: true },
        /** The vendor's priority when the event was applied: the tie-break of its fold position. */
        priority: { type: "number", required: true },
        eventType: { type: "string", required: true },
        /** The standard event's data, as the mapping produced it. */
        data: { type: "any", required: true },
        mappingVersion: { type: "string", required: true },
        rawKey: { type: "string", required: true },
        /** The entity's version when the event joined its history. */
        version: { type: "number", required: true },
        appliedAt: { type: "string", required: true },
        /**
         * The feed position its change is published at (state/feed.ts formatSlot), written with the
         * item just before the feed entry, and again if the change moves to a new position: how the
         * feed entry of an event is found (the Outbox has no index by ingestId). Absent on items
         * logged before positions were recorded.
         */
        feedPosition: { type: "string" },
      },
      indexes: {
        byEntity: {
          pk: { field: "pk", composite: ["entityType", "entityKey"], casing: "none" },
          sk: { field: "sk", composite: ["at", "ingestId"], casing: "none" },
        },
      },
    },
    config,
  );

export type EntityEventItem = EntityItem<ReturnType<typeof entityEventEntity>>;
