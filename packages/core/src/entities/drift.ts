import { Entity, type EntityConfiguration, type EntityItem } from "electrodb";
import { DRIFT_KINDS, DRIFT_SEVERITIES } from "../drift/kinds.ts";

/**
 * One drift finding (docs/spec/drift.md): a change in a vendor's payloads, one item per
 * (vendorId, eventType, version, kind, path) however many events show it. Lives in the Divergence
 * table (what disagrees with what DVSS expects), in the vendor's partition; `all` (gsi2, one
 * partition, a few hundred items at most: the budget below) lists every vendor's.
 */
export const driftFindingEntity = (config: EntityConfiguration) =>
  new Entity(
    {
      model: { entity: "driftFinding", version: "1", service: "dvss" },
      attributes: {
        vendorId: { type: "string", required: true, readOnly: true },
        eventType: { type: "string", required: true, readOnly: true },
        version: { type: "string", required: true, readOnly: true },
        kind: { type: DRIFT_KINDS, required: true, readOnly: true },
        /** The payload field (`lines.sku`), or `*` for the findings past the version's budget. */
        path: { type: "string", required: true, readOnly: true },
        /** `<vendorId>:<12 hex>`, what `dvss drift ack` takes. */
        findingId: { type: "string", required: true, readOnly: true },
        /** Breaking once an event failed because of it; it stays so. */
        severity: { type: DRIFT_SEVERITIES, required: true },
        firstSeen: { type: "string", required: true },
        lastSeen: { type: "string", required: true },
        /** Events that showed it: a lower bound (docs/spec/drift.md, "Dedup and counts"). */
        count: { type: "number", required: true },
        /** An event that showed it at its severity. */
        exampleIngestId: { type: "string", required: true },
        expected: { type: "string", required: true },
        seen: { type: "string", required: true },
        /** The severity it was acknowledged at: acked while it still has that severity. */
        ackedSeverity: { type: DRIFT_SEVERITIES },
        ackedAt: { type: "string" },
      },
      indexes: {
        byVendor: {
          pk: { field: "pk", composite: ["vendorId"], casing: "none" },
          sk: { field: "sk", composite: ["eventType", "version", "kind", "path"], casing: "none" },
        },
        all: {
          index: "gsi2",
          pk: { field: "gsi2pk", composite: [], casing: "none" },
          sk: {
            field: "gsi2sk",
            composite: ["vendorId", "eventType", "version", "kind", "path"],
            casing: "none",
          },
        },
      },
    },
    config,
  );

export type DriftFindingItem = EntityItem<ReturnType<typeof driftFindingEntity>>;

/** How many findings a vendor event type version holds (the budget that caps them). */
export const driftBudgetEntity = (config: EntityConfiguration) =>
  new Entity(
    {
      model: { entity: "driftBudget", version: "1", service: "dvss" },
      attributes: {
        vendorId: { type: "string", required: true, readOnly: true },
        eventType: { type: "string", required: true, readOnly: true },
        version: { type: "string", required: true, readOnly: true },
        findings: { type: "number" },
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
