import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkExamples } from "../src/mapping/check.ts";
import { nextVersion, SuggestRefusedError, writeSuggestion } from "../src/mapping/suggest.ts";

const VENDORS = join(import.meta.dirname, "../../../schemas/vendors");

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "dvss-suggest-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8"));

/** Every file of a folder, by path relative to it, with its bytes. */
function filesOf(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[relative(dir, path)] = readFileSync(path, "utf8");
  }
  return files;
}

function writeSamples(name: string, envelopes: Record<string, unknown>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, envelope] of Object.entries(envelopes)) {
    writeFileSync(join(dir, file), typeof envelope === "string" ? envelope : JSON.stringify(envelope));
  }
  return dir;
}

const envelope = (vendorId: string, eventType: string, externalEventId: string, payload: unknown) => ({
  vendorId,
  externalEventId,
  eventType,
  occurredAt: "2026-01-30T20:15:12Z",
  payload,
});

describe("mapping suggest on the vendors' own formats", () => {
  it.each([
    ["vendorA", "inventory_update", "1", "InventoryUpdated"],
    ["vendorA", "inventory_adjust", "1", "InventoryAdjusted"],
    ["vendorA", "order_created", "1", "OrderCreated"],
    ["vendorA", "order_status", "1", "OrderStatusChanged"],
    ["vendorB", "stock_snapshot", "1", "InventoryUpdated"],
    ["vendorB", "stock_snapshot", "2", "InventoryUpdated"],
    ["vendorB", "stock_movement", "1", "InventoryAdjusted"],
    ["vendorB", "order_placed", "1", "OrderCreated"],
    ["vendorB", "order_state", "1", "OrderStatusChanged"],
  ])(
    "%s %s/%s: a folder that passes mapping check with the documents the hand-written mapping gives",
    async (vendorId, eventType, version, standard) => {
      const examples = join(VENDORS, vendorId, eventType, version, "examples");
      const versionDir = join(root, vendorId, eventType, version);

      const result = await writeSuggestion({ samplesDir: examples, vendorId, eventType, versionDir });

      expect(result.standard).toBe(standard);
      expect(result.fields.filter((field) => field.unmapped)).toEqual([]);
      expect(result.check.passed).toBe(true);
      expect((await checkExamples(versionDir)).passed).toBe(true);
      for (const file of readdirSync(examples).filter((name) => name.endsWith(".expected.json"))) {
        expect(readJson(join(versionDir, "examples", file))).toEqual(readJson(join(examples, file)));
      }
    },
  );
});

describe("mapping suggest on a format of its own", () => {
  // Nested ids, a quantity as text, other names than any vendor's, fields the mapping has no use for.
  const report = (id: string, site: string, code: string, available: string) =>
    envelope("vendorT", "stock_report", id, {
      site: { id: site, name: "North" },
      product: { code, label: "Widget" },
      stock: { available, unit: "EA" },
      reportedAt: "2026-01-30T20:00:00Z",
    });

  it("maps nested ids and text quantities, infers the schema and says what it does not use", async () => {
    const samples = writeSamples("reports", {
      "b.json": report("r-2", "W2", "P-2", "0"),
      "a.json": report("r-1", "W1", "P-1", "12"),
    });
    const versionDir = join(root, "vendorT", "stock_report", "1");

    const result = await writeSuggestion({
      samplesDir: samples,
      vendorId: "vendorT",
      eventType: "stock_report",
      versionDir,
    });

    expect(result.check.passed).toBe(true);
    expect(result.fields).toEqual([
      { field: "warehouseId", expression: "payload.site.id", from: ["payload.site.id"] },
      { field: "sku", expression: "payload.product.code", from: ["payload.product.code"] },
      {
        field: "quantityOnHand",
        expression: "$number(payload.stock.available)",
        from: ["payload.stock.available"],
      },
    ]);
    expect(result.unused).toEqual([
      "payload.site.name",
      "payload.product.label",
      "payload.stock.unit",
      "payload.reportedAt",
    ]);
    expect(readJson(join(versionDir, "examples/a.expected.json")).data).toEqual({
      warehouseId: "W1",
      sku: "P-1",
      quantityOnHand: 12,
    });
    const schema = readJson(join(versionDir, "payload.schema.json"));
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.required).toEqual(["site", "product", "stock", "reportedAt"]);
    expect(schema.properties.reportedAt).toEqual({ type: "string", format: "date-time" });
    expect(schema.properties.stock.properties.available).toEqual({
      type: "string",
      pattern: "^[0-9]{1,15}$",
    });
    // A value every sample repeats, without digits, is an enum; ids never are.
    expect(schema.properties.stock.properties.unit).toEqual({ enum: ["EA"] });
    expect(schema.properties.site.properties.id).toEqual({ type: "string", minLength: 1, maxLength: 256 });
  });

  it("makes fields absent from a sample optional, and trims ids a sample pads", async () => {
    const withWarehouse = envelope("vendorT", "order_new", "o-1", {
      order_no: "SO-1",
      warehouse: " W1 ",
      items: [{ product_id: "P-1", qty: "2" }],
    });
    const without = envelope("vendorT", "order_new", "o-2", {
      order_no: "SO-2",
      items: [{ product_id: "P-2", qty: "1" }],
    });
    const samples = writeSamples("orders", { "with.json": withWarehouse, "without.json": without });
    const versionDir = join(root, "vendorT", "order_new", "1");

    const result = await writeSuggestion({
      samplesDir: samples,
      vendorId: "vendorT",
      eventType: "order_new",
      versionDir,
    });

    expect(result.standard).toBe("OrderCreated");
    expect(result.check.passed).toBe(true);
    expect(readJson(join(versionDir, "payload.schema.json")).required).toEqual(["order_no", "items"]);
    expect(result.fields.find((field) => field.field === "warehouseId")?.expression).toBe(
      "$trim(payload.warehouse)",
    );
    expect(readJson(join(versionDir, "examples/with.expected.json")).data.warehouseId).toBe("W1");
    expect(readJson(join(versionDir, "examples/without.expected.json")).data).toEqual({
      orderId: "SO-2",
      lines: [{ sku: "P-2", quantity: 1 }],
    });
  });

  it("maps the status words it knows and leaves the others, named, to a human", async () => {
    const status = (id: string, state: string) =>
      envelope("vendorT", "order_update", id, { order: { number: `SO-${id}` }, fulfilment_state: state });
    const samples = writeSamples("statuses", {
      "1.json": status("1", "acknowledged"),
      "2.json": status("2", "on_hold"),
      "3.json": status("3", "Dispatched"),
    });
    const versionDir = join(root, "vendorT", "order_update", "1");

    const result = await writeSuggestion({
      samplesDir: samples,
      vendorId: "vendorT",
      eventType: "order_update",
      versionDir,
    });

    expect(result.standard).toBe("OrderStatusChanged");
    const unmapped = result.fields.filter((field) => field.unmapped);
    expect(unmapped.map((field) => [field.field, field.unmapped])).toEqual([
      [
        "status",
        'status words without a standard status (ACKED PICKED SHIPPED DELIVERED CANCELED): "on_hold"',
      ],
    ]);
    expect(result.examples).toEqual([
      { name: "1", expected: true },
      { name: "2", expected: false, error: expect.stringContaining("data.status") },
      { name: "3", expected: true },
    ]);
    expect(
      result.check.results.filter((example) => !example.passed).map((example) => example.example),
    ).toEqual(["2"]);
    expect(readJson(join(versionDir, "examples/3.expected.json")).data).toEqual({
      orderId: "SO-3",
      status: "SHIPPED",
    });
    expect(readFileSync(join(versionDir, "mapping.jsonata"), "utf8")).toContain("TODO status");
  });

  it("reads fields whose names JSONata cannot take bare, and keeps every name in the schema", async () => {
    const samples = writeSamples("odd", {
      "a.json": envelope("vendorT", "odd_stock", "o-1", {
        "store`code": "W1",
        "item id": "P-1",
        in: { qty: 4 },
      }),
    });
    const versionDir = join(root, "vendorT", "odd_stock", "1");

    const result = await writeSuggestion({
      samplesDir: samples,
      vendorId: "vendorT",
      eventType: "odd_stock",
      versionDir,
      standard: "InventoryAdjusted",
    });

    expect(result.fields.map((field) => field.expression)).toEqual([
      '$lookup(payload, "store`code")',
      "payload.`item id`",
      "payload.`in`.qty",
    ]);
    expect(result.check.passed).toBe(true);
    expect(Object.keys(readJson(join(versionDir, "payload.schema.json")).properties)).toEqual([
      "store`code",
      "item id",
      "in",
    ]);
    expect(readJson(join(versionDir, "examples/a.expected.json")).data).toEqual({
      warehouseId: "W1",
      sku: "P-1",
      quantityDelta: 4,
    });
  });

  it("writes the same bytes for the same samples", async () => {
    const samples = writeSamples("same", {
      "a.json": report("r-1", "W1", "P-1", "12"),
      "b.json": report("r-2", "W2", "P-2", "3"),
    });
    const first = join(root, "one", "vendorT", "stock_report", "1");
    const second = join(root, "two", "vendorT", "stock_report", "1");

    await writeSuggestion({
      samplesDir: samples,
      vendorId: "vendorT",
      eventType: "stock_report",
      versionDir: first,
    });
    await writeSuggestion({
      samplesDir: samples,
      vendorId: "vendorT",
      eventType: "stock_report",
      versionDir: second,
    });

    expect(Object.keys(filesOf(first)).sort()).toEqual([
      "examples/a.expected.json",
      "examples/a.input.json",
      "examples/b.expected.json",
      "examples/b.input.json",
      "mapping.jsonata",
      "payload.schema.json",
    ]);
    expect(filesOf(second)).toEqual(filesOf(first));
  });

  it("maps to the standard event it is told", async () => {
    const samples = writeSamples("told", { "a.json": report("r-1", "W1", "P-1", "12") });
    const versionDir = join(root, "vendorT", "stock_report", "1");

    const result = await writeSuggestion({
      samplesDir: samples,
      vendorId: "vendorT",
      eventType: "stock_report",
      versionDir,
      standard: "InventoryAdjusted",
    });

    expect(result.standard).toBe("InventoryAdjusted");
    expect(result.check.passed).toBe(true);
    expect(readJson(join(versionDir, "examples/a.expected.json")).data).toEqual({
      warehouseId: "W1",
      sku: "P-1",
      quantityDelta: 12,
    });
  });
});

describe("mapping suggest refuses", () => {
  const sample = envelope("vendorT", "stock_report", "r-1", { site: "W1", sku: "P-1", qty: 1 });
  const refusal = async (
    samples: Record<string, unknown>,
    versionDir = join(root, "vendorT", "stock_report", "1"),
  ) => {
    const error = await writeSuggestion({
      samplesDir: writeSamples("refused", samples),
      vendorId: "vendorT",
      eventType: "stock_report",
      versionDir,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SuggestRefusedError);
    expect(existsSync(versionDir) && versionDir.endsWith("/1")).toBe(false);
    return error as SuggestRefusedError;
  };

  it("a sample that is not an envelope, naming the file and the field", async () => {
    const error = await refusal({
      "a.json": sample,
      "b.json": { sku: "P-1", qty: 1 },
      "c.json": "{not json",
    });
    expect(error.code).toBe("REFUSED");
    expect(error.details).toEqual(
      expect.arrayContaining([
        { path: "b.json: vendorId", message: expect.any(String) },
        { path: "b.json: payload", message: expect.any(String) },
        { path: "b.json: sku", message: 'unknown field "sku"' },
        { path: "c.json", message: expect.stringMatching(/^not JSON/) },
      ]),
    );
  });

  it("samples of another vendor or event type", async () => {
    const error = await refusal({
      "a.json": sample,
      "b.json": { ...sample, vendorId: "vendorU" },
      "c.json": { ...sample, eventType: "stock_level" },
    });
    expect(error.details).toEqual([
      { path: "b.json: vendorId", message: 'is "vendorU", not "vendorT"' },
      { path: "c.json: eventType", message: 'is "stock_level", not "stock_report"' },
    ]);
  });

  it("two samples that give one example name", async () => {
    const error = await refusal({ "a.json": sample, "a.input.json": { ...sample, externalEventId: "r-2" } });
    expect(error.details).toEqual([
      { path: "a.json", message: 'gives the example name "a" that another sample has' },
    ]);
  });

  it("a folder without samples", async () => {
    const error = await refusal({ "notes.txt": "not a sample" });
    expect(error.message).toContain("holds no sample envelopes");
  });

  it("an output folder that exists, leaving it as it was", async () => {
    const versionDir = join(root, "vendorT", "stock_report", "1");
    mkdirSync(versionDir, { recursive: true });
    writeFileSync(join(versionDir, "mapping.jsonata"), "kept");
    const error = await writeSuggestion({
      samplesDir: writeSamples("exists", { "a.json": sample }),
      vendorId: "vendorT",
      eventType: "stock_report",
      versionDir,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SuggestRefusedError);
    expect((error as Error).message).toContain("exists already");
    expect(readFileSync(join(versionDir, "mapping.jsonata"), "utf8")).toBe("kept");
  });

  it("an output folder whose path does not name the vendor and event type", async () => {
    const error = await refusal({ "a.json": sample }, join(root, "elsewhere", "1"));
    expect(error.message).toContain("is not a version folder vendorT/stock_report/<version>/");
  });

  it("samples it cannot tell the standard event of", async () => {
    const error = await refusal({ "a.json": envelope("vendorT", "stock_report", "r-1", { note: "hello" }) });
    expect(error.message).toContain(
      "give --standard InventoryUpdated|InventoryAdjusted|OrderCreated|OrderStatusChanged",
    );
  });
});

describe("nextVersion", () => {
  it("is one more than the highest whole-number version, or 1", async () => {
    mkdirSync(join(root, "vendorT", "stock", "2"), { recursive: true });
    mkdirSync(join(root, "vendorT", "stock", "10"), { recursive: true });
    mkdirSync(join(root, "vendorT", "stock", "beta"), { recursive: true });
    expect(await nextVersion(root, "vendorT", "stock")).toBe("11");
    expect(await nextVersion(root, "vendorT", "other")).toBe("1");
  });
});
