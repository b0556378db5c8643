import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { generateSchemaFiles } from "../../../scripts/generate-schemas.ts";
import { buildNormalizedDocument } from "../src/normalized.ts";
import { seedEnvelope } from "./fixtures.ts";

const root = join(import.meta.dirname, "..", "..", "..");
const generated = generateSchemaFiles();

// The formats used by the generated schemas, so strict mode accepts them without a plugin.
function compile(schema: object) {
  const ajv = new Ajv2020({ allErrors: true, strict: true, formats: { "date-time": true } });
  return ajv.compile(schema);
}

describe("published JSON Schemas", () => {
  it.each(Object.keys(generated))("%s is up to date (run `npm run schemas` if not)", (path) => {
    const file = join(root, path);
    const checkedIn = existsSync(file) ? readFileSync(file, "utf8") : "(missing)";

    expect(checkedIn).toBe(generated[path]);
  });

  it.each(Object.keys(generated))("%s is a valid draft 2020-12 schema", (path) => {
    const schema = JSON.parse(generated[path] ?? "{}") as object;

    expect(() => compile(schema)).not.toThrow();
  });

  it("the envelope schema accepts the contract's example and rejects an unknown field", () => {
    const validate = compile(JSON.parse(generated["schemas/envelope.schema.json"] ?? "{}") as object);
    const example = seedEnvelope;

    const accepted = validate(example);
    const rejected = validate({ ...example, extra: true });

    expect(accepted).toBe(true);
    expect(rejected).toBe(false);
  });

  it("the normalized document schema accepts a built document and rejects invalid data", () => {
    const validate = compile(
      JSON.parse(generated["schemas/standard/normalized-document.schema.json"] ?? "{}") as object,
    );
    const doc = buildNormalizedDocument({
      ingestId: "01KFKQ7W5G7Z7Y4H3P0R9X2N6D",
      envelope: { vendorId: "vendorA", externalEventId: "so-1", occurredAt: "2026-01-30T20:15:12Z" },
      standardEventType: "OrderCreated",
      data: { orderId: "SO-1", lines: [{ sku: "A", quantity: 1 }] },
      rawRef: { bucket: "raw", key: "raw/vendorA/2026/01/30/01KFKQ7W5G7Z7Y4H3P0R9X2N6D.json" },
    });

    const accepted = validate(doc);
    const rejected = validate({ ...doc, data: { orderId: "SO-1", lines: [] } });

    expect(accepted).toBe(true);
    expect(rejected).toBe(false);
  });
});
