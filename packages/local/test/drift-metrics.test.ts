/**
 * dvss.drift.detected as the running pipeline writes it: one data point per finding created or
 * turned breaking, not one per event that shows it.
 */
import { METRICS } from "@dvss/core/metrics";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { driftedEnvelope, vendorsWithVendorD } from "./drift-vendor.ts";
import { type Harness, startHarness } from "./harness.ts";

// At INFO the local runtime writes the handlers' metric lines (read when their logger is built).
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = "INFO";
});

const output: string[] = [];

/** The drift data points printed so far, each as its dimensions without `service`, and its value. */
function driftPoints(): { dimensions: Record<string, string>; value: unknown }[] {
  const { name } = METRICS.driftDetected;
  return output
    .join("")
    .split("\n")
    .filter((line) => line.startsWith("{") && line.includes(name))
    .map(
      (line) =>
        JSON.parse(line) as Record<string, unknown> & {
          _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] };
        },
    )
    .flatMap((line) =>
      line._aws.CloudWatchMetrics.flatMap((directive) =>
        directive.Dimensions.map((set) => ({
          dimensions: Object.fromEntries(set.filter((d) => d !== "service").map((d) => [d, String(line[d])])),
          value: line[name],
        })),
      ),
    );
}

let dvss: Harness;
beforeAll(async () => {
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: unknown) => {
    output.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  dvss = await startHarness({ vendorsDir: vendorsWithVendorD() });
});
afterAll(async () => {
  await dvss?.close();
  vi.restoreAllMocks();
});

describe("dvss.drift.detected", () => {
  it("counts each of the three changes once, by severity and by vendor and severity, over 20 events", async () => {
    for (let i = 1; i <= 20; i++) await dvss.post(driftedEnvelope(i), { "x-api-key": "local-vendorD-key" });
    await dvss.runtime.stepFunctions.drain();

    // The task thread's output reaches this one through a pipe, a little after the executions end.
    await expect.poll(() => driftPoints().length).toBe(6);
    const points = driftPoints().map((point) => JSON.stringify(point));
    expect(points.sort()).toEqual(
      [
        { dimensions: { severity: "non_breaking" }, value: 1 },
        { dimensions: { severity: "non_breaking" }, value: 1 },
        { dimensions: { severity: "breaking" }, value: 1 },
        { dimensions: { vendorId: "vendorD", severity: "non_breaking" }, value: 1 },
        { dimensions: { vendorId: "vendorD", severity: "non_breaking" }, value: 1 },
        { dimensions: { vendorId: "vendorD", severity: "breaking" }, value: 1 },
      ]
        .map((point) => JSON.stringify(point))
        .sort(),
    );
  });
});
