import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "@dvss/local/lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../local/test/harness.ts";
import {
  type CliHarness,
  FIXED_MAPPING,
  startCliHarness,
  stockEnvelope,
  vendorsWithBrokenVendorF,
  writeStockVersion,
} from "./harness.ts";

const run = promisify(execFile);
const BIN = join(REPO_ROOT, "packages/cli/bin/dvss.mjs");

let dvss: CliHarness;
beforeAll(async () => {
  // The default definitions cache time (5 s): the spawned redrive must wait out what the runtime cached.
  dvss = await startCliHarness({ vendorsDir: vendorsWithBrokenVendorF() }, { definitionsCacheMs: 5_000 });
});
afterAll(async () => {
  await dvss?.close();
});

/** The real launcher in its own process, as an operator runs it; async, so this process keeps serving the runtime. */
async function spawnDvss(...argv: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...argv], {
      cwd: REPO_ROOT,
      env: dvss.env,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

describe("the fix loop: quarantined by a broken mapping, fixed by a publish, redriven", () => {
  it("quarantines, publishes the fix in-process, redrives with --wait and ends NORMALIZED", async () => {
    const ingestId = await dvss.postAndSettle(stockEnvelope("fix-1"));
    const before = await dvss.cli("status", ingestId, "--json");
    const fixedDir = writeStockVersion(tempDir("dvss-publish-"), "2");

    const published = await dvss.cli("mapping", "publish", fixedDir, "--json");
    const redriven = await dvss.cli("redrive", ingestId, "--wait", "--json");
    const after = await dvss.cli("status", ingestId, "--json");

    expect(before.json().record.status).toBe("FAILED_NORMALIZE");
    expect(before.json().quarantine).toMatchObject({
      reason: "MAPPING_FAILED",
      stage: "Map",
      status: "open",
    });
    expect(published.code).toBe(0);
    expect(published.json().result).toMatchObject({ outcome: "published", active: "2" });
    expect(published.json().previousEffective).toBe("1");
    expect(redriven.code).toBe(0);
    expect(redriven.json().items).toEqual([
      expect.objectContaining({
        ingestId,
        result: "started",
        executionName: `${ingestId}-redrive-2`,
        outcome: { status: "NORMALIZED" },
      }),
    ]);
    const story = after.json();
    expect(story.record).toMatchObject({ status: "NORMALIZED", mappingVersion: "2", attempts: 2 });
    expect(story.quarantine.status).toBe("resolved");
    expect(story.executions.map((e: { name: string }) => e.name)).toEqual([
      ingestId,
      `${ingestId}-redrive-2`,
    ]);
    const document = JSON.parse(
      (await dvss.object(story.normalizedRef.bucket, story.normalizedRef.key)).toString(),
    );
    expect(document.data).toEqual({ warehouseId: "ROA", sku: "F-1", quantityOnHand: 17 });
  });

  it("keeps a published version immutable: other content is refused, the same content changes nothing", async () => {
    const root = tempDir("dvss-publish-");
    const sameDir = writeStockVersion(root, "2");
    const otherDir = writeStockVersion(
      tempDir("dvss-publish-"),
      "2",
      `/* the same, said otherwise */ ${FIXED_MAPPING}`,
    );
    const bundledDir = writeStockVersion(tempDir("dvss-publish-"), "1");

    const same = await dvss.cli("mapping", "publish", sameDir, "--json");
    const other = await dvss.cli("mapping", "publish", otherDir, "--json");
    const overBundled = await dvss.cli("mapping", "publish", bundledDir);

    expect(same.code).toBe(0);
    expect(same.json().result).toMatchObject({ outcome: "unchanged", active: "2" });
    expect(other.code).toBe(1);
    expect(other.json().error.code).toBe("MAPPING_VERSION_CONFLICT");
    expect(overBundled.code).toBe(1);
    expect(overBundled.stderr).toContain("already bundled with other content");
  });

  it("refuses to publish a version whose examples fail, and writes nothing", async () => {
    const dir = writeStockVersion(
      tempDir("dvss-publish-"),
      "3",
      FIXED_MAPPING.replace("payload.units", "payload.units + 1"),
    );

    const result = await dvss.cli("mapping", "publish", dir);
    const published = await dvss.entities.mappingVersions
      .get({ vendorId: "vendorF", eventType: "stock_level", version: "3" })
      .go();

    expect(result.code).toBe(1);
    expect(result.stdout).toContain("data.quantityOnHand: expected 5, got 6");
    expect(result.stdout).toContain("Not published");
    expect(published.data).toBeNull();
  });

  it("runs the real bin/dvss.mjs in another process: a publish there reaches the runtime before its redrive", async () => {
    // schemaVersion 9 does not exist yet: quarantined UNKNOWN_SCHEMA_VERSION. Processing it just now
    // left this runtime holding vendorF's versions in its definitions cache.
    const ingestId = await dvss.postAndSettle({ ...stockEnvelope("fix-spawned-1", 9), schemaVersion: "9" });
    const dir = writeStockVersion(tempDir("dvss-publish-"), "9");

    const publish = await spawnDvss("mapping", "publish", dir, "--json");
    const redrive = await spawnDvss("redrive", ingestId, "--wait");
    const status = await spawnDvss("status", ingestId, "--json");

    expect(publish.code).toBe(0);
    expect(JSON.parse(publish.stdout).result.active).toBe("9");
    expect(redrive.code).toBe(0);
    expect(redrive.stdout).toMatch(
      new RegExp(
        `${ingestId}\\s+vendorF\\s+UNKNOWN_SCHEMA_VERSION\\s+started\\s+${ingestId}-redrive-2\\s+NORMALIZED`,
      ),
    );
    expect(JSON.parse(status.stdout).record).toMatchObject({ status: "NORMALIZED", mappingVersion: "9" });
  });
});
