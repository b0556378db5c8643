import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../src/errors.ts";
import { eventTypeDimension, METRICS, reasonDimension } from "../src/metrics.ts";

describe("the metrics vocabulary", () => {
  it("names each metric once, in the dvss namespace's dotted form, with bounded dimensions only", () => {
    const definitions = Object.values(METRICS);
    const names = definitions.map((metric) => metric.name);

    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^dvss\.[a-z]+\.[a-z_]+$/);
    for (const metric of definitions) {
      for (const set of metric.dimensionSets) {
        expect(set.filter((name) => ["ingestId", "externalEventId"].includes(name))).toEqual([]);
      }
    }
  });

  it("keeps a reason to the error codes and the workflow's own, anything else as OTHER", () => {
    expect(ERROR_CODES.map(reasonDimension)).toEqual([...ERROR_CODES]);
    expect(["STUCK", "TIMEOUT", "INTERNAL"].map(reasonDimension)).toEqual(["STUCK", "TIMEOUT", "INTERNAL"]);
    expect(reasonDimension("TASKFAILED")).toBe("OTHER");
    expect(reasonDimension("a vendor's own text")).toBe("OTHER");
  });

  it("names an event type the registry does not know 'unregistered', whatever the vendor sent", () => {
    expect(eventTypeDimension("inventory_update")).toBe("inventory_update");
    expect(eventTypeDimension("made_up_type", "UNKNOWN_SCHEMA_VERSION")).toBe("unregistered");
    expect(eventTypeDimension("inventory_update", "MAPPING_FAILED")).toBe("inventory_update");
  });
});
