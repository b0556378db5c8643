import { Entity, type EntityConfiguration } from "electrodb";
import { COUNTER_NAMES } from "../scorecard.ts";

const counters = Object.fromEntries(COUNTER_NAMES.map((name) => [name, { type: "number" as const }]));

/**
 * A vendor's counters of one UTC day (core/scorecard.ts, docs/spec/scorecard.md): only ever added
 * to, one UpdateItem per outcome, never read before a write.
 */
export const scorecardEntity = (config: EntityConfiguration) =>
  new Entity(
    {
      model: { entity: "scorecard", version: "1", service: "dvss" },
      attributes: {
        vendorId: { type: "string", required: true, readOnly: true },
        /** YYYY-MM-DD, UTC: sorts as the days do. */
        day: { type: "string", required: true, readOnly: true },
        ...counters,
      },
      indexes: {
        byVendor: {
          pk: { field: "pk", composite: ["vendorId"], casing: "none" },
          sk: { field: "sk", composite: ["day"], casing: "none" },
        },
      },
    },
    config,
  );
