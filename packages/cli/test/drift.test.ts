import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { driftedEnvelope, vendorsWithVendorD } from "../../local/test/drift-vendor.ts";
import { type CliHarness, startCliHarness } from "./harness.ts";

let dvss: CliHarness;
beforeAll(async () => {
  dvss = await startCliHarness({ vendorsDir: vendorsWithVendorD() });
  for (let i = 1; i <= 20; i++) {
    await dvss.post(driftedEnvelope(i), { "x-api-key": "local-vendorD-key" });
  }
  await dvss.runtime.stepFunctions.drain();
});
afterAll(async () => {
  await dvss?.close();
});

describe("npx dvss drift", () => {
  it("lists the three findings of 20 drifted events, breaking first", async () => {
    const listed = await dvss.cli("drift", "list", "--vendor", "vendorD");
    const json = (await dvss.cli("drift", "list", "--vendor", "vendorD", "--json")).json();

    expect(listed.code).toBe(0);
    expect(json.total).toBe(3);
    const found = json.findings.map((f: { kind: string; path: string; severity: string }) =>
      [f.kind, f.path, f.severity].join(" "),
    );
    expect(found[0]).toBe("new_value state breaking");
    expect(found.slice(1).sort()).toEqual([
      "type_widened line_count non_breaking",
      "undeclared_field gift_wrap non_breaking",
    ]);
    const lines = listed.stdout.split("\n");
    expect(lines[1]).toContain(`${json.findings[0].findingId}`);
    expect(lines[1]).toContain("vendorD/order_state/1");
    expect(lines[1]).toContain("breaking");
    expect(listed.stdout).toContain("3 findings.");
  });

  it("hides an acknowledged finding unless --all, and --since filters by when it was last seen", async () => {
    const { findings } = (await dvss.cli("drift", "list", "--json")).json();
    const widened = findings.find((f: { kind: string }) => f.kind === "type_widened");

    const acked = await dvss.cli("drift", "ack", widened.findingId);
    const after = (await dvss.cli("drift", "list", "--vendor", "vendorD", "--json")).json();
    const all = (await dvss.cli("drift", "list", "--vendor", "vendorD", "--all", "--json")).json();
    const future = await dvss.cli("drift", "list", "--since", "2999-01-01T00:00:00Z");

    expect(acked.code).toBe(0);
    expect(acked.stdout).toContain(`Acknowledged ${widened.findingId} at its severity (non_breaking).`);
    expect(after).toMatchObject({ total: 2, hiddenAcked: 1 });
    expect(after.findings.map((f: { findingId: string }) => f.findingId)).not.toContain(widened.findingId);
    expect(all.findings.find((f: { findingId: string }) => f.findingId === widened.findingId)).toMatchObject({
      acked: true,
      ackedSeverity: "non_breaking",
    });
    expect(future.stdout).toBe("No drift findings.\n");
  });

  it("exits 3 for a finding that does not exist and 2 for an id that is not one", async () => {
    const missing = await dvss.cli("drift", "ack", "vendorD:000000000000");
    const malformed = await dvss.cli("drift", "ack", "nonsense");

    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("No drift finding vendorD:000000000000");
    expect(malformed.code).toBe(2);
  });

  it.each([
    ["drift", "list"],
    ["drift", "ack"],
  ])("answers %s %s --help with its usage, --stage and --json", async (...command) => {
    const result = await dvss.cli(...command, "--help");

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: dvss ${command.join(" ")}`);
    expect(result.stdout).toContain("--stage");
    expect(result.stdout).toContain("--json");
  });
});
