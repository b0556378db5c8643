import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "@dvss/local/lambda";
import { describe, expect, it } from "vitest";
import { bufferIo } from "../src/io.ts";
import { runCli } from "../src/main.ts";

const SAMPLES = "schemas/vendors/vendorB/stock_movement/1/examples";

async function dvss(argv: string[], env: Record<string, string> = {}) {
  const io = bufferIo({ env: { ...process.env, NO_COLOR: "1", ...env }, cwd: REPO_ROOT });
  const code = await runCli(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe("dvss mapping suggest", () => {
  it("writes the next version under the vendors folder, names each field's source and runs the check", async () => {
    const vendorsDir = mkdtempSync(join(tmpdir(), "dvss-suggest-cli-"));

    const run = await dvss(
      ["mapping", "suggest", "--vendor", "vendorB", "--event-type", "stock_movement", "--samples", SAMPLES],
      { DVSS_VENDORS_DIR: vendorsDir },
    );

    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const versionDir = join(vendorsDir, "vendorB/stock_movement/1");
    expect(run.stdout).toContain("(InventoryAdjusted) in ");
    expect(run.stdout).toMatch(
      /quantityDelta\s+payload\.quantity, payload\.direction\s+payload\.direction = "out"/,
    );
    expect(run.stdout).toContain("PASS vendorB/stock_movement/1 out");
    expect(run.stdout).toContain("2 of 2 example(s) passed.");
    expect(readFileSync(join(versionDir, "examples/out.expected.json"), "utf8")).toContain(
      '"quantityDelta": -3',
    );
  });

  it("--json gives the fields, what is left and the check; a failing check exits 1", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "dvss-suggest-cli-")), "vendorB/stock_movement/7");

    const run = await dvss([
      "mapping",
      "suggest",
      "--vendor",
      "vendorB",
      "--event-type",
      "stock_movement",
      "--samples",
      SAMPLES,
      "--standard",
      "OrderStatusChanged",
      "--out",
      out,
      "--json",
    ]);

    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.standard).toBe("OrderStatusChanged");
    expect(
      report.fields
        .filter((field: { unmapped?: string }) => field.unmapped)
        .map((f: { field: string }) => f.field),
    ).toEqual(["orderId", "status"]);
    expect(report.check.passed).toBe(false);
  });

  it("refuses an output folder that exists (exit 1) and an unknown --standard (exit 2)", async () => {
    const out = join(REPO_ROOT, "schemas/vendors/vendorB/stock_movement/1");
    const exists = await dvss([
      "mapping",
      "suggest",
      "--vendor",
      "vendorB",
      "--event-type",
      "stock_movement",
      "--samples",
      SAMPLES,
      "--out",
      out,
    ]);
    expect(exists.code).toBe(1);
    expect(exists.stderr).toContain("exists already");

    const fresh = join(mkdtempSync(join(tmpdir(), "dvss-suggest-cli-")), "vendorB/stock_movement/1");
    const usage = await dvss([
      "mapping",
      "suggest",
      "--vendor",
      "vendorB",
      "--event-type",
      "stock_movement",
      "--samples",
      SAMPLES,
      "--standard",
      "StockMoved",
      "--out",
      fresh,
    ]);
    expect(usage.code).toBe(2);
    expect(existsSync(fresh)).toBe(false);
  });
});
