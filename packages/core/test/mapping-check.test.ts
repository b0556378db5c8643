import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { VendorDefinitionError } from "../src/errors.ts";
import { checkExamples, checkVendorFolders, diffJson, formatExampleReport } from "../src/mapping/check.ts";
import { createFileSystemSource } from "../src/mapping/fs-source.ts";

let root: string;

function write(path: string, content: unknown) {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content, null, 2));
}

const profile = { vendorId: "acme", name: "Acme", priority: 30, rateLimitPerSecond: 10 };
const payloadSchema = {
  type: "object",
  properties: { sku: { type: "string" }, qty: { type: "integer" } },
  required: ["sku", "qty"],
};
const mapping =
  '{"eventType": "InventoryUpdated", "data": {"warehouseId": "W1", "sku": payload.sku, "quantityOnHand": payload.qty}}';
const input = {
  vendorId: "acme",
  externalEventId: "e-1",
  eventType: "stock",
  occurredAt: "2026-01-30T20:15:12Z",
  payload: { sku: "A", qty: 3 },
};
const expected = {
  vendorId: "acme",
  externalEventId: "e-1",
  eventType: "InventoryUpdated",
  schemaVersion: "1.0",
  occurredAt: "2026-01-30T20:15:12Z",
  data: { warehouseId: "W1", sku: "A", quantityOnHand: 3 },
};

function writeVersion(dir: string, files: Record<string, unknown> = {}) {
  write(`${dir}/payload.schema.json`, payloadSchema);
  write(`${dir}/mapping.jsonata`, mapping);
  for (const [name, content] of Object.entries(files)) write(`${dir}/${name}`, content);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "dvss-vendors-"));
  write("acme/vendor.json", profile);
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("checkExamples", () => {
  it("passes a vendor folder whose examples match", async () => {
    writeVersion("acme/stock/1", {
      "examples/basic.input.json": input,
      "examples/basic.expected.json": expected,
    });

    const report = await checkExamples(join(root, "acme"));

    expect(report).toMatchObject({ passed: true, total: 1, failed: 0 });
    expect(report.results[0]).toMatchObject({
      mapping: "acme/stock/1",
      example: "basic",
      passed: true,
      diff: [],
    });
  });

  it("fails an example whose output differs, with one readable line per differing field", async () => {
    const wrong = { ...expected, data: { warehouseId: "W2", sku: "A", quantityOnHand: "3" }, note: "x" };
    writeVersion("acme/stock/1", {
      "examples/basic.input.json": input,
      "examples/basic.expected.json": wrong,
    });

    const report = await checkExamples(join(root, "acme", "stock", "1"));

    expect(report.passed).toBe(false);
    expect(report.results[0]?.diff).toEqual([
      'data.warehouseId: expected "W2", got "W1"',
      'data.quantityOnHand: expected "3", got 3',
      'note: expected "x", got (absent)',
    ]);
    expect(formatExampleReport(report)).toBe(
      [
        "FAIL acme/stock/1 basic",
        '  data.warehouseId: expected "W2", got "W1"',
        '  data.quantityOnHand: expected "3", got 3',
        '  note: expected "x", got (absent)',
        "0 of 1 example(s) passed, 1 failed.",
      ].join("\n"),
    );
  });

  it("fails an example whose payload breaks the schema, with the error and its paths", async () => {
    const badInput = { ...input, payload: { sku: "A", qty: "3" } };
    writeVersion("acme/stock/1", {
      "examples/bad.input.json": badInput,
      "examples/bad.expected.json": expected,
    });

    const report = await checkExamples(join(root, "acme"));

    expect(report.results[0]).toMatchObject({
      passed: false,
      error: {
        name: "SchemaValidationError",
        code: "SCHEMA_VALIDATION_FAILED",
        details: [{ path: "payload.qty", message: "must be integer" }],
      },
    });
  });

  it("fails an example whose envelope belongs to another folder", async () => {
    const other = { ...input, eventType: "stock_take", schemaVersion: "2" };
    writeVersion("acme/stock/1", { "examples/x.input.json": other, "examples/x.expected.json": expected });

    const report = await checkExamples(join(root, "acme"));

    expect(report.results[0]?.error?.details).toEqual([
      { path: "eventType", message: 'must be "stock"' },
      { path: "schemaVersion", message: 'must be "1" or absent' },
    ]);
  });

  it("fails an input without its expected file, and a version without examples", async () => {
    writeVersion("acme/stock/1", { "examples/lonely.input.json": input });
    writeVersion("acme/stock/2");

    const report = await checkExamples(root);

    expect(report.results.map((result) => [result.mapping, result.example, result.passed])).toEqual([
      ["acme/stock/1", "lonely", false],
      ["acme/stock/2", "", false],
    ]);
    expect(report.results[0]?.error?.message).toBe("acme/stock/1/examples/lonely.expected.json is missing");
    expect(report.results[1]?.error?.message).toBe(
      "acme/stock/2 has no examples (examples/<name>.input.json)",
    );
  });

  it("reports a version whose mapping does not compile without stopping the others", async () => {
    writeVersion("acme/stock/1", { "mapping.jsonata": "{", "examples/a.input.json": input });
    writeVersion("acme/stock/2", { "examples/a.input.json": input, "examples/a.expected.json": expected });

    const report = await checkExamples(join(root, "acme"));

    expect(report.results.map((result) => [result.mapping, result.passed])).toEqual([
      ["acme/stock/1", false],
      ["acme/stock/2", true],
    ]);
    expect(report.results[0]?.error?.name).toBe("VendorDefinitionError");
  });

  it("fails a vendor folder without vendor.json, naming the file", async () => {
    unlinkSync(join(root, "acme/vendor.json"));
    writeVersion("acme/stock/1", {
      "examples/basic.input.json": input,
      "examples/basic.expected.json": expected,
    });

    const report = await checkExamples(join(root, "acme"));

    expect(report.passed).toBe(false);
    expect(formatExampleReport(report).split("\n")).toEqual([
      "FAIL acme",
      "  VendorDefinitionError: acme/vendor.json: missing; a vendor folder needs one with vendorId, name, priority and rateLimitPerSecond",
      "0 of 1 example(s) passed, 1 failed.",
    ]);
    expect(report.results).toEqual([
      expect.objectContaining({
        mapping: "acme",
        passed: false,
        error: expect.objectContaining({
          name: "VendorDefinitionError",
          message:
            "acme/vendor.json: missing; a vendor folder needs one with vendorId, name, priority and rateLimitPerSecond",
        }),
      }),
    ]);
  });

  it.each([0, 0.5, -1])(
    "fails a vendor.json whose rateLimitPerSecond is %s (it would admit nothing), naming the field",
    async (rateLimitPerSecond) => {
      write("acme/vendor.json", { ...profile, rateLimitPerSecond });
      writeVersion("acme/stock/1", {
        "examples/basic.input.json": input,
        "examples/basic.expected.json": expected,
      });

      const report = await checkExamples(join(root, "acme"), undefined, { label: "schemas/vendors/acme" });

      expect(report.passed).toBe(false);
      expect(report.results[0]?.error).toMatchObject({
        message:
          "schemas/vendors/acme/vendor.json: rateLimitPerSecond: must be a whole number of events per second, at least 1 (to stop a vendor, pause it)",
        details: [{ path: "rateLimitPerSecond" }],
      });
    },
  );

  it("fails a vendor.json without priority with one line naming the file and the field", async () => {
    const { priority: _priority, ...withoutPriority } = profile;
    write("acme/vendor.json", withoutPriority);
    writeVersion("acme/stock/1", {
      "examples/basic.input.json": input,
      "examples/basic.expected.json": expected,
    });

    const report = await checkExamples(join(root, "acme"), undefined, { label: "schemas/vendors/acme" });

    expect(report.passed).toBe(false);
    expect(report.results[0]?.error).toMatchObject({
      message:
        "schemas/vendors/acme/vendor.json: priority: required, a whole number (the lower wins ties at the same occurredAt)",
      details: [
        {
          path: "priority",
          message: "required, a whole number (the lower wins ties at the same occurredAt)",
        },
      ],
    });
    expect(formatExampleReport(report).split("\n")).toEqual([
      "FAIL acme",
      "  VendorDefinitionError: schemas/vendors/acme/vendor.json: priority: required, a whole number (the lower wins ties at the same occurredAt)",
      "0 of 1 example(s) passed, 1 failed.",
    ]);
  });

  it("checks every vendor of a tree, failing the broken ones, including a folder without vendor.json", async () => {
    write("acme/vendor.json", { ...profile, name: "", rateLimitPerSecond: "fast", prority: 1 });
    writeVersion("acme/stock/1", { "examples/a.input.json": input, "examples/a.expected.json": expected });
    writeVersion("nofile/stock/1", { "examples/a.input.json": input, "examples/a.expected.json": expected });
    write("zeta/vendor.json", { ...profile, vendorId: "zeta" });
    const zetaInput = { ...input, vendorId: "zeta" };
    writeVersion("zeta/stock/1", {
      "examples/a.input.json": zetaInput,
      "examples/a.expected.json": { ...expected, vendorId: "zeta" },
    });

    const report = await checkExamples(root);

    expect(report.results.map((result) => [result.mapping, result.passed, result.error?.message])).toEqual([
      [
        "acme",
        false,
        "acme/vendor.json: name: must be a non-empty string; rateLimitPerSecond: must be a whole number of events per second, at least 1 (to stop a vendor, pause it); prority: unknown field (allowed: vendorId, name, priority, rateLimitPerSecond, activeVersions)",
      ],
      [
        "nofile",
        false,
        "nofile/vendor.json: missing; a vendor folder needs one with vendorId, name, priority and rateLimitPerSecond",
      ],
      ["zeta/stock/1", true, undefined],
    ]);
  });

  it("refuses a folder that holds no vendor definitions", async () => {
    const empty = join(root, "empty");
    mkdirSync(empty);

    const attempt = checkExamples(empty);

    await expect(attempt).rejects.toBeInstanceOf(VendorDefinitionError);
  });
});

describe("checkVendorFolders", () => {
  it("answers the vendors that can start and one line for each refused folder", async () => {
    write("acme/vendor.json", { ...profile, priority: undefined });
    write("beta/vendor.json", { ...profile, vendorId: "beta" });
    mkdirSync(join(root, "gamma"));
    write("delta/vendor.json", "{ not json");
    write("epsilon/vendor.json", { ...profile, vendorId: "other" });

    const checked = await checkVendorFolders(root, "schemas/vendors");

    expect(checked.vendors.map((vendor) => vendor.profile.vendorId)).toEqual(["beta"]);
    expect(checked.refused.map((refused) => [refused.vendorId, refused.message])).toEqual([
      [
        "acme",
        "schemas/vendors/acme/vendor.json: priority: required, a whole number (the lower wins ties at the same occurredAt)",
      ],
      ["delta", expect.stringMatching(/^schemas\/vendors\/delta\/vendor\.json: not valid JSON: /)],
      ["epsilon", 'schemas/vendors/epsilon/vendor.json: vendorId: must be the folder name "epsilon"'],
      [
        "gamma",
        "schemas/vendors/gamma/vendor.json: missing; a vendor folder needs one with vendorId, name, priority and rateLimitPerSecond",
      ],
    ]);
  });
});

describe("diffJson", () => {
  it("ignores key order and reports array items by index", () => {
    const diff = diffJson(
      { a: 1, list: [{ x: 1 }, { x: 2 }] },
      { list: [{ x: 1 }, { x: 3 }, { x: 4 }], a: 1 },
    );

    expect(diff).toEqual(["list.1.x: expected 2, got 3", 'list.2: expected (absent), got {"x":4}']);
  });
});

describe("file system definition source", () => {
  it("lists vendors with the versions of each event type", async () => {
    writeVersion("acme/stock/1");
    writeVersion("acme/stock/10");
    writeVersion("acme/orders/1");
    const source = createFileSystemSource(root);

    const vendors = await source.listVendors();

    expect(vendors).toEqual([{ profile, versions: { orders: ["1"], stock: ["1", "10"] } }]);
  });

  it("loads one version's schema and mapping", async () => {
    writeVersion("acme/stock/1");
    const source = createFileSystemSource(root);

    const definition = await source.loadMappingVersion("acme", "stock", "1");

    expect(definition).toEqual({
      vendorId: "acme",
      eventType: "stock",
      version: "1",
      payloadSchema,
      mapping,
    });
  });

  it.each([
    ["an unknown vendor", "other", "stock", "1"],
    ["an unknown version", "acme", "stock", "9"],
    ["a version that climbs out of the tree", "acme", "stock", ".."],
    ["an event type that climbs out of the tree", "acme", "..", "acme"],
  ])("answers nothing for %s", async (_case, vendorId, eventType, version) => {
    writeVersion("acme/stock/1");
    const source = createFileSystemSource(root);

    const definition = await source.loadMappingVersion(vendorId, eventType, version);

    expect(definition).toBeUndefined();
  });

  it("answers nothing for a vendor it does not hold", async () => {
    const source = createFileSystemSource(root);

    const vendor = await source.loadVendor("../acme");

    expect(vendor).toBeUndefined();
  });

  it("refuses a vendor.json whose vendorId is not its folder's name", async () => {
    write("acme/vendor.json", { ...profile, vendorId: "acme2" });
    const source = createFileSystemSource(root);

    const attempt = source.loadVendor("acme");

    await expect(attempt).rejects.toMatchObject({
      name: "VendorDefinitionError",
      details: [{ path: "vendorId", message: 'must be the folder name "acme"' }],
    });
  });

  it("refuses a vendor.json that breaks its format", async () => {
    write("acme/vendor.json", { ...profile, priority: "high", extra: 1 });
    const source = createFileSystemSource(root);

    const attempt = source.loadVendor("acme");

    await expect(attempt).rejects.toMatchObject({
      name: "VendorDefinitionError",
      message:
        "acme/vendor.json: priority: must be a whole number (the lower wins ties at the same occurredAt); extra: unknown field (allowed: vendorId, name, priority, rateLimitPerSecond, activeVersions)",
    });
  });

  it("refuses a version folder without its mapping", async () => {
    write("acme/stock/1/payload.schema.json", payloadSchema);
    const source = createFileSystemSource(root);

    const attempt = source.loadMappingVersion("acme", "stock", "1");

    await expect(attempt).rejects.toMatchObject({
      name: "VendorDefinitionError",
      message: "acme/stock/1/mapping.jsonata is missing",
    });
  });
});
