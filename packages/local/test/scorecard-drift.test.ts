import { listDrift } from "@dvss/core/ops/drift";
import { vendorScorecard } from "@dvss/core/ops/scorecard";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { driftedEnvelope, vendorsWithVendorD } from "./drift-vendor.ts";
import { type Harness, startHarness } from "./harness.ts";

let dvss: Harness;
beforeAll(async () => {
  dvss = await startHarness({ vendorsDir: vendorsWithVendorD() });
});
afterAll(async () => {
  await dvss?.close();
});

describe("the scorecard's drift findings", () => {
  it("count each new finding once on the vendor's day, however many events show it", async () => {
    for (let i = 1; i <= 6; i++) {
      await dvss.post(driftedEnvelope(i), { "x-api-key": "local-vendorD-key" });
    }
    await dvss.runtime.stepFunctions.drain();
    const context = { entities: dvss.entities, now: () => Date.now() } as never;

    const { findings } = await listDrift(context, { vendorId: "vendorD" });
    const { days } = await vendorScorecard(context, "vendorD", 1);

    expect(findings.length).toBeGreaterThan(0);
    expect(days[0]?.driftFindings).toBe(findings.length);
    expect(days[0]?.accepted).toBe(6);
  });
});
