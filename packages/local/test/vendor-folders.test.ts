import { spawn } from "node:child_process";
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../src/lambda.ts";
import { snapshotVendorFolders, VendorsDirOverlapError, vendorsDirLabel } from "../src/vendors.ts";
import {
  bundledVendors,
  type Harness,
  seedEnvelope,
  startHarness,
  tempDir,
  writeInventoryVersion,
} from "./harness.ts";

/**
 * The tested vendors plus four broken copies of vendorA: vendorW has no vendor.json, vendorX's has
 * no priority, vendorY's is not JSON, vendorZ's is `{}`; and vendorA/inventory_update/2, whose
 * example its mapping fails (`mapping publish` would refuse it).
 */
function vendorsWithBrokenFolders(): string {
  const vendorsDir = bundledVendors();
  for (const vendorId of ["vendorW", "vendorX", "vendorY", "vendorZ"]) {
    cpSync(join(vendorsDir, "vendorA"), join(vendorsDir, vendorId), { recursive: true });
  }
  const profile = JSON.parse(readFileSync(join(vendorsDir, "vendorA/vendor.json"), "utf8"));
  const { priority: _priority, ...withoutPriority } = { ...profile, vendorId: "vendorX", name: "Vendor X" };
  rmSync(join(vendorsDir, "vendorW/vendor.json"));
  writeFileSync(join(vendorsDir, "vendorX/vendor.json"), JSON.stringify(withoutPriority));
  writeFileSync(join(vendorsDir, "vendorY/vendor.json"), "");
  writeFileSync(join(vendorsDir, "vendorZ/vendor.json"), "{}");
  writeInventoryVersion(
    vendorsDir,
    "vendorA",
    "2",
    '{"eventType": "InventoryUpdated", "data": {"warehouseId": payload.warehouse, "sku": payload.sku, "quantityOnHand": payload.qty * 2}}',
    {
      payload: { sku: "ABC-001", qty: 3, warehouse: "ROA" },
      data: { warehouseId: "ROA", sku: "ABC-001", quantityOnHand: 3 },
    },
  );
  return vendorsDir;
}

let dvss: Harness;
let vendorsDir: string;

beforeAll(async () => {
  vendorsDir = vendorsWithBrokenFolders();
  dvss = await startHarness({ vendorsDir });
});
afterAll(async () => {
  await dvss?.close();
});

describe("vendor folders at start", () => {
  it("starts with the good vendors and refuses each broken one with one line naming the file and the field", async () => {
    const messages = dvss.runtime.refusedVendors.map((vendor) => [vendor.vendorId, vendor.message]);

    expect(messages).toEqual([
      [
        "vendorW",
        `${vendorsDir}/vendorW/vendor.json: missing; a vendor folder needs one with vendorId, name, priority and rateLimitPerSecond`,
      ],
      [
        "vendorX",
        `${vendorsDir}/vendorX/vendor.json: priority: required, a whole number (the lower wins ties at the same occurredAt)`,
      ],
      ["vendorY", expect.stringMatching(new RegExp(`^${vendorsDir}/vendorY/vendor\\.json: not valid JSON`))],
      [
        "vendorZ",
        `${vendorsDir}/vendorZ/vendor.json: vendorId: required, 1-64 characters of A-Z a-z 0-9 . _ -, the folder's name; name: required, a non-empty string; priority: required, a whole number (the lower wins ties at the same occurredAt); rateLimitPerSecond: required, a whole number of events per second, at least 1 (to stop a vendor, pause it)`,
      ],
    ]);
    const accepted = await dvss.post({ ...seedEnvelope, externalEventId: "good-vendor-1" });
    expect(accepted).toMatchObject({ status: 202, body: { status: "ACCEPTED" } });
  });

  it("answers an event of a refused vendor 503 UNAVAILABLE, saying why, and accepts nothing", async () => {
    const before = await dvss.rawKeys();

    const refused = await dvss.post(
      { ...seedEnvelope, vendorId: "vendorX", externalEventId: "refused-1" },
      { authorization: "Bearer local-vendorX-key" },
    );

    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe("UNAVAILABLE");
    expect(refused.body.error.message).toContain(
      "Vendor vendorX is not loaded: its definition was refused at start (",
    );
    expect(refused.body.error.message).toContain("/vendorX/vendor.json: priority: required, a whole number");
    expect(refused.headers.get("x-request-id")).toBe(refused.body.requestId);
    expect(await dvss.rawKeys()).toEqual(before);
  });

  it("leaves out a version folder whose example fails, as a publish would, and runs the version before it", async () => {
    const { schemaVersion: _version, ...envelope } = seedEnvelope;

    const { ingestId } = (await dvss.post({ ...envelope, externalEventId: "refused-version-1" })).body;
    await dvss.runtime.stepFunctions.drain();

    expect(dvss.runtime.refusedVersions).toEqual([
      {
        id: "vendorA/inventory_update/2",
        message: `${vendorsDir}/vendorA/inventory_update/2 example one: data.quantityOnHand: expected 3, got 6`,
      },
    ]);
    const event = await dvss.request("GET", `/v1/events/${ingestId}`, {
      headers: { "x-api-key": "local-vendorA-key" },
    });
    expect(event.body.status).toBe("NORMALIZED");
    const { bucket, key } = event.body.normalizedRef;
    const document = JSON.parse((await dvss.object(bucket, key)).toString());
    expect(document.data.quantityOnHand).toBe(seedEnvelope.payload.qty);
  });

  it("names the repository's own folder as schemas/vendors", () => {
    expect(vendorsDirLabel(join(REPO_ROOT, "schemas/vendors"))).toBe("schemas/vendors");
    expect(vendorsDirLabel(vendorsDir)).toBe(vendorsDir);
  });
});

describe("npm start with vendor folders that fail their checks", () => {
  it("names each refused vendor and each left-out version in one line, and how to check them", async () => {
    const child = spawn(process.execPath, ["packages/local/src/main.ts"], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        DVSS_DATA_DIR: tempDir("dvss-refused-"),
        DVSS_VENDORS_DIR: vendorsDir,
        PORT: "0",
        DVSS_RECONCILE_INTERVAL_MS: "0",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk;
    });
    // The refusals are the last lines it prints once ready.
    await new Promise<void>((resolve, reject) => {
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk;
        if (stderr.includes("left out:") && stderr.endsWith("\n")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`npm start exited ${code}: ${stdout}${stderr}`)));
    });
    child.kill("SIGTERM");

    const lines = stderr.split("\n");
    expect(stdout).toContain("DVSS local ready");
    expect(lines).toContain(
      `  refused    ${vendorsDir}/vendorX/vendor.json: priority: required, a whole number (the lower wins ties at the same occurredAt)`,
    );
    expect(lines).toContain(
      `  refused    ${vendorsDir}/vendorA/inventory_update/2 example one: data.quantityOnHand: expected 3, got 6`,
    );
    expect(lines).toContain(
      "             left out: vendorA/inventory_update/2, as `npx dvss mapping publish` would refuse them; " +
        `fix, then publish or restart (check with: npx dvss mapping check ${vendorsDir})`,
    );
  });
});

describe("the copy of the vendors folder a runtime runs", () => {
  it("is refused when it would be, or hold, the folder it copies, which is left as it was", async () => {
    const source = bundledVendors();

    await expect(snapshotVendorFolders(source, source)).rejects.toThrow(VendorsDirOverlapError);
    await expect(snapshotVendorFolders(source, source)).rejects.toThrow(
      `The vendors folder ${source} and the data directory's copy of it (${source}) overlap: give DVSS_DATA_DIR a folder of its own`,
    );
    await expect(snapshotVendorFolders(source, join(source, "bundled-vendors"))).rejects.toThrow("overlap");
    await expect(snapshotVendorFolders(join(source, "vendorA"), source)).rejects.toThrow("overlap");
    expect(existsSync(join(source, "vendorA/inventory_update/1/mapping.jsonata"))).toBe(true);
  });
});
