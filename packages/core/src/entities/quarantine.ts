import { Entity, type EntityConfiguration, type EntityItem } from "electrodb";

export const QUARANTINE_STATUSES = ["open", "redriven", "resolved"] as const;
export type QuarantineStatus = (typeof QUARANTINE_STATUSES)[number];

/** An event that could not be normalized, with everything an operator needs to act on it. */
export const quarantineEntity = (config: EntityConfiguration) =>
  new Entity(
    {
      model: { entity: "quarantine", version: "1", service: "dvss" },
      attributes: {
        ingestId: { type: "string", required: true, readOnly: true },
        vendorId: { type: "string", required: true },
        externalEventId: { type: "string", required: true },
        eventType: { type: "string" },
        /** The workflow state that failed (Validate, Map, ...; STUCK from the reconciler). */
        stage: { type: "string", required: true },
        /** The error code operators filter on (SCHEMA_VALIDATION_FAILED, MAPPING_FAILED, STUCK, ...). */
        reason: { type: "string", required: true },
        errorName: { type: "string", required: true },
        message: { type: "string", required: true },
        details: {
          type: "list",
          items: { type: "map", properties: { path: { type: "string" }, message: { type: "string" } } },
        },
        rawBucket: { type: "string", required: true },
        rawKey: { type: "string", required: true },
        /** Executions started for the event when it was quarantined. */
        attempts: { type: "number", required: true },
        status: { type: QUARANTINE_STATUSES, required: true },
        quarantinedAt: { type: "string", required: true },
        updatedAt: { type: "string" },
      },
      indexes: {
        entry: {
          pk: { field: "pk", composite: ["ingestId"], casing: "none" },
          sk: { field: "sk", composite: [], casing: "none" },
        },
        byStatus: {
          index: "gsi1",
          pk: { field: "gsi1pk", composite: ["status"], casing: "none" },
          sk: { field: "gsi1sk", composite: ["quarantinedAt", "ingestId"], casing: "none" },
        },
      },
    },
    config,
  );

export type QuarantineItem = EntityItem<ReturnType<typeof quarantineEntity>>;
