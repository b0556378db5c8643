import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { clearAuthCache, hashApiKey } from "@dvss/core/auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundledVendors, seedEnvelope, tempDir } from "../../local/test/harness.ts";
import { type CliHarness, startCliHarness, stockEnvelope, vendorsWithBrokenVendorF } from "./harness.ts";

let dvss: CliHarness;
const ids = { normalized: "", badSchema: "", brokenMapping: "", unknownVersion: "" };

beforeAll(async () => {
  dvss = await startCliHarness({ vendorsDir: vendorsWithBrokenVendorF() });
  ids.normalized = await dvss.postAndSettle({ ...seedEnvelope, externalEventId: "op-ok-1" });
  ids.badSchema = await dvss.postAndSettle({
    ...seedEnvelope,
    externalEventId: "op-schema-1",
    payload: { sku: "ABC-001", qty: "twelve", warehouse: "ROA" },
  });
  ids.brokenMapping = await dvss.postAndSettle(stockEnvelope("op-map-1"));
  ids.unknownVersion = await dvss.postAndSettle({
    ...seedEnvelope,
    externalEventId: "op-version-1",
    schemaVersion: "99",
  });
});
afterAll(async () => {
  await dvss?.close();
});

describe("dvss status", () => {
  it("tells a quarantined event's story: record, each step with the caught error, the quarantine entry", async () => {
    const result = await dvss.cli("status", ids.badSchema, "--json");

    expect(result.code).toBe(0);
    const story = result.json();
    expect(story.record).toMatchObject({
      status: "FAILED_NORMALIZE",
      externalEventId: "op-schema-1",
      attempts: 1,
    });
    expect(story.quarantine).toMatchObject({
      reason: "SCHEMA_VALIDATION_FAILED",
      stage: "Validate",
      status: "open",
    });
    expect(story.divergences).toEqual([]);
    const [execution] = story.executions;
    expect(execution).toMatchObject({ name: ids.badSchema, status: "SUCCEEDED" });
    expect(execution.steps.map((s: { state: string; status: string }) => `${s.state}:${s.status}`)).toEqual([
      "Map:caught",
      "MapFailed:succeeded",
      "Quarantine:succeeded",
      "OutcomeFailed:succeeded",
      "MarkFailed:succeeded",
      "Quarantined:succeeded",
    ]);
    expect(execution.steps[0].error).toMatchObject({
      error: "SchemaValidationError",
      code: "SCHEMA_VALIDATION_FAILED",
    });
    expect(execution.steps[0].input).toMatchObject({
      ingestId: ids.badSchema,
      externalEventId: "op-schema-1",
    });
  });

  it("prints the story as aligned sections for a person, with the next command to run", async () => {
    const result = await dvss.cli("status", ids.badSchema);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Event ${ids.badSchema}  vendorA / op-schema-1`);
    expect(result.stdout).toMatch(/Map\s+caught\s+SCHEMA_VALIDATION_FAILED: Payload does not match/);
    expect(result.stdout).toContain("payload.qty: must be integer");
    expect(result.stdout).toContain(`fix, then: npx dvss redrive ${ids.badSchema}`);
    expect(result.stdout).not.toContain("\u001b["); // NO_COLOR
  });

  it("shows a normalized event's whole happy path and where its document is", async () => {
    const story = (await dvss.cli("status", ids.normalized, "--json")).json();

    expect(story.record.status).toBe("NORMALIZED");
    expect(story.normalizedRef.key).toMatch(
      new RegExp(`^normalized/InventoryUpdated/.+/${ids.normalized}\\.json$`),
    );
    expect(story.executions[0].steps.map((s: { state: string }) => s.state)).toEqual([
      "Map",
      "NeedsMatch",
      "ApplyState",
      "Normalized",
    ]);
    expect(story.quarantine).toBeUndefined();
  });

  it("exits 3 for an unknown ingestId, with the error as JSON under --json", async () => {
    const result = await dvss.cli("status", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "--json");

    expect(result.code).toBe(3);
    expect(result.json().error).toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("dvss quarantine list", () => {
  it("lists open entries newest first with counts by reason", async () => {
    const listing = (await dvss.cli("quarantine", "list", "--json")).json();

    expect(listing.total).toBe(3);
    expect(listing.countsByReason).toEqual({
      SCHEMA_VALIDATION_FAILED: 1,
      MAPPING_FAILED: 1,
      UNKNOWN_SCHEMA_VERSION: 1,
    });
    expect(listing.entries.map((e: { ingestId: string }) => e.ingestId)).toEqual([
      ids.unknownVersion,
      ids.brokenMapping,
      ids.badSchema,
    ]);
  });

  it("filters by vendor, by reason and by time", async () => {
    const byVendor = (await dvss.cli("quarantine", "list", "--vendor", "vendorF", "--json")).json();
    const byReason = (
      await dvss.cli("quarantine", "list", "--reason", "UNKNOWN_SCHEMA_VERSION", "--json")
    ).json();
    const since = (await dvss.cli("quarantine", "list", "--since", "2999-01-01T00:00:00Z", "--json")).json();
    const recent = (await dvss.cli("quarantine", "list", "--since", "1h", "--json")).json();

    expect(byVendor.entries.map((e: { ingestId: string }) => e.ingestId)).toEqual([ids.brokenMapping]);
    expect(byReason.entries.map((e: { ingestId: string }) => e.ingestId)).toEqual([ids.unknownVersion]);
    expect(since).toEqual({ entries: [], total: 0, countsByReason: {} });
    expect(recent.total).toBe(3);
  });

  it("prints a table and the counts for a person", async () => {
    const result = await dvss.cli("quarantine", "list", "--vendor", "vendorA");

    expect(result.code).toBe(0);
    const [header, ...rows] = result.stdout.split("\n");
    expect(header).toMatch(
      /^ingestId\s+vendor\s+eventType\s+reason\s+stage\s+status\s+attempts\s+quarantinedAt\s+message$/,
    );
    expect(
      rows.some((row) => row.startsWith(ids.badSchema) && row.includes("SCHEMA_VALIDATION_FAILED")),
    ).toBe(true);
    expect(result.stdout).toMatch(/UNKNOWN_SCHEMA_VERSION\s+1/);
    expect(result.stdout).toContain("2 entries.");
  });
});

describe("dvss redrive", () => {
  it("refuses a NORMALIZED event with the reason, and exits 1", async () => {
    const result = await dvss.cli("redrive", ids.normalized, "--json");

    expect(result.code).toBe(1);
    expect(result.json().items).toEqual([
      expect.objectContaining({
        ingestId: ids.normalized,
        result: "refused",
        message: expect.stringContaining("NORMALIZED"),
      }),
    ]);
  });

  it("exits 3 for an unknown ingestId and starts nothing for it", async () => {
    const result = await dvss.cli("redrive", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "--json");

    expect(result.code).toBe(3);
    expect(result.json().items[0]).toMatchObject({ result: "not_found" });
  });

  it("redrives --all of one vendor and reason, waits, and reports that it was quarantined again", async () => {
    const result = await dvss.cli(
      "redrive",
      "--all",
      "--vendor",
      "vendorA",
      "--reason",
      "UNKNOWN_SCHEMA_VERSION",
      "--wait",
      "--json",
    );
    const { data: untouched } = await dvss.entities.quarantine.get({ ingestId: ids.badSchema }).go();
    const { data: again } = await dvss.entities.quarantine.get({ ingestId: ids.unknownVersion }).go();

    expect(result.code).toBe(1);
    expect(result.json().items).toEqual([
      expect.objectContaining({
        ingestId: ids.unknownVersion,
        result: "started",
        executionName: `${ids.unknownVersion}-redrive-2`,
        outcome: expect.objectContaining({ status: "QUARANTINED", reason: "UNKNOWN_SCHEMA_VERSION" }),
      }),
    ]);
    expect(again).toMatchObject({ status: "open", attempts: 2 });
    expect(untouched).toMatchObject({ status: "open", attempts: 1 });
  });

  it("starts the run without waiting, naming its execution; the run failing again reopens the entry", async () => {
    const result = await dvss.cli("redrive", ids.brokenMapping);
    await dvss.runtime.stepFunctions.drain();
    const { data: entry } = await dvss.entities.quarantine.get({ ingestId: ids.brokenMapping }).go();

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(
        `${ids.brokenMapping}\\s+vendorF\\s+MAPPING_FAILED\\s+started\\s+${ids.brokenMapping}-redrive-2`,
      ),
    );
    expect(result.stdout).toContain("1 of 1 started.");
    expect(entry).toMatchObject({ status: "open", reason: "MAPPING_FAILED", attempts: 2 });
  });
});

describe("dvss vendor", () => {
  // The key `vendor add` prints: the only time anyone sees it.
  let firstKey = "";
  const apiPost = (key: string, externalEventId: string) =>
    dvss.post({ ...seedEnvelope, vendorId: "vendorN", externalEventId }, { "x-api-key": key });

  it("adds a vendor, prints its key once and stores only the key's hash", async () => {
    const result = await dvss.cli(
      "vendor",
      "add",
      "vendorN",
      "--name",
      "Vendor N",
      "--priority",
      "20",
      "--json",
    );
    const added = result.json();
    firstKey = added.apiKey;
    const { data: keys } = await dvss.entities.apiKeys.query.byVendor({ vendorId: "vendorN" }).go();
    const { data: vendor } = await dvss.entities.vendors.get({ vendorId: "vendorN" }).go();
    clearAuthCache();
    const accepted = await apiPost(added.apiKey, "vn-1");

    expect(result.code).toBe(0);
    expect(added.apiKey).toMatch(/^dvss_[A-Za-z0-9_-]{43}$/);
    expect(added.apiKey).not.toContain("vendorN");
    expect(keys.map((key) => key.keyHash)).toEqual([hashApiKey(added.apiKey)]);
    expect(JSON.stringify(keys)).not.toContain(added.apiKey);
    expect(vendor).toMatchObject({ name: "Vendor N", priority: 20, rateLimitPerSecond: 100 });
    expect(accepted.status).toBe(202);
  });

  it("refuses to add a vendor twice (exit 1) and rejects a bad vendorId (exit 2)", async () => {
    const twice = await dvss.cli("vendor", "add", "vendorN");
    const bad = await dvss.cli("vendor", "add", "bad/id");

    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain("exists already");
    expect(bad.code).toBe(2);
  });

  it("rotates a key with a grace period: old and new keys both work, then --grace 0 revokes the old ones", async () => {
    const first = (await dvss.cli("vendor", "rotate-key", "vendorN", "--grace", "1h", "--json")).json();
    clearAuthCache();
    const [withOld, withNew] = await Promise.all([apiPost(firstKey, "vn-2"), apiPost(first.apiKey, "vn-3")]);
    const second = (await dvss.cli("vendor", "rotate-key", "vendorN", "--grace", "0", "--json")).json();
    clearAuthCache();
    const [revoked, newest] = await Promise.all([
      apiPost(first.apiKey, "vn-4"),
      apiPost(second.apiKey, "vn-5"),
    ]);

    expect(first.previousKeys).toHaveLength(1);
    expect(Date.parse(first.previousKeys[0].expiresAt) - Date.parse(first.createdAt)).toBeGreaterThan(
      3_500_000,
    );
    expect(withOld.status).toBe(202);
    expect(withNew.status).toBe(202);
    expect(revoked.status).toBe(401);
    expect(newest.status).toBe(202);
  });

  it("exits 3 when rotating the key of an unknown vendor", async () => {
    const result = await dvss.cli("vendor", "rotate-key", "nobody");

    expect(result.code).toBe(3);
  });
});

describe("dvss mapping check", () => {
  it("passes a good vendor folder", async () => {
    const result = await dvss.cli("mapping", "check", join(bundledVendors(), "vendorA"));

    expect(result.code).toBe(0);
    expect(result.stdout).toContain("PASS vendorA/inventory_update/1 seed");
    expect(result.stdout).toMatch(/\d+ of \d+ example\(s\) passed\./);
  });

  it("prints a diff for each mismatching example and exits 1", async () => {
    const dir = join(tempDir("dvss-check-"), "vendorA", "inventory_update", "1");
    mkdirSync(join(dir, "examples"), { recursive: true });
    writeFileSync(join(dir, "payload.schema.json"), JSON.stringify({ type: "object" }));
    writeFileSync(
      join(dir, "mapping.jsonata"),
      '{"eventType": "InventoryUpdated", "data": {"warehouseId": payload.warehouse, "sku": payload.sku, "quantityOnHand": payload.qty + 1}}',
    );
    const { vendorId, externalEventId, eventType, occurredAt, payload } = seedEnvelope;
    writeFileSync(
      join(dir, "examples/seed.input.json"),
      JSON.stringify({ vendorId, externalEventId, eventType, occurredAt, payload }),
    );
    writeFileSync(
      join(dir, "examples/seed.expected.json"),
      JSON.stringify({
        vendorId,
        externalEventId,
        eventType: "InventoryUpdated",
        schemaVersion: "1.0",
        occurredAt,
        data: { warehouseId: "ROA", sku: "ABC-001", quantityOnHand: 12 },
      }),
    );

    const human = await dvss.cli("mapping", "check", dir);
    const json = await dvss.cli("mapping", "check", dir, "--json");

    expect(human.code).toBe(1);
    expect(human.stdout).toContain("FAIL vendorA/inventory_update/1 seed");
    expect(human.stdout).toContain("  data.quantityOnHand: expected 12, got 13");
    expect(json.code).toBe(1);
    expect(json.json()).toMatchObject({ passed: false, total: 1, failed: 1 });
  });

  /** A copy of the tested vendorA folder, changed by `change`. */
  function vendorACopy(change: (vendorDir: string) => void): string {
    const vendorDir = join(bundledVendors(), "vendorA");
    change(vendorDir);
    return vendorDir;
  }

  it("fails a vendor folder without vendor.json, naming the file, and exits 1", async () => {
    const dir = vendorACopy((vendorDir) => rmSync(join(vendorDir, "vendor.json")));

    const result = await dvss.cli("mapping", "check", dir);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain("FAIL vendorA\n");
    expect(result.stdout).toContain(
      "vendorA/vendor.json: missing; a vendor folder needs one with vendorId, name, priority and rateLimitPerSecond",
    );
    expect(result.stdout).not.toContain("PASS");
  });

  it("fails a vendor.json without priority with one line naming the file and the field, and exits 1", async () => {
    const dir = vendorACopy((vendorDir) => {
      const file = join(vendorDir, "vendor.json");
      const { priority: _priority, ...profile } = JSON.parse(readFileSync(file, "utf8"));
      writeFileSync(file, JSON.stringify(profile));
    });

    const result = await dvss.cli("mapping", "check", dir);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `VendorDefinitionError: ${dir}/vendor.json: priority: required, a whole number (the lower wins ties at the same occurredAt)`,
    );
  });

  it("exits 3 for a folder that does not exist", async () => {
    const result = await dvss.cli("mapping", "check", join(tempDir("dvss-check-"), "missing"));

    expect(result.code).toBe(3);
  });
});

describe("usage", () => {
  it.each([
    [["redrive"], "Give the ingestIds to redrive, or --all"],
    [["redrive", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "--all"], "not both"],
    [["redrive", "--all", "--timeout", "soon"], "not a duration"],
    [["quarantine", "list", "--status", "lost"], "Allowed choices"],
    [["replay"], "--vendor"],
    [["status"], "missing required argument"],
    [["nonsense"], "unknown command"],
  ])("exits 2 for dvss %j", async (argv, message) => {
    const result = await dvss.cli(...argv);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it.each([
    ["status"],
    ["quarantine", "list"],
    ["redrive"],
    ["replay"],
    ["vendor", "add"],
    ["vendor", "rotate-key"],
    ["mapping", "check"],
    ["mapping", "publish"],
  ])("answers %s --help with its usage and exit 0", async (...command) => {
    const result = await dvss.cli(...command, "--help");

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: dvss ${command.join(" ")}`);
    expect(result.stdout).toContain("--json");
  });
});
