/**
 * Writes the published JSON Schemas under schemas/ from their valibot sources (`npm run schemas`).
 * The files are checked in; a test regenerates them in memory and fails when they differ.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ConversionConfig, type JsonSchema, toJsonSchema } from "@valibot/to-json-schema";
import type * as v from "valibot";
import { EnvelopeSchema, MAX_BODY_BYTES, MAX_NESTING_DEPTH } from "../packages/core/src/envelope.ts";
import { NormalizedDocumentSchema } from "../packages/core/src/normalized.ts";
import { OUTBOX_BUS_EVENT, StateChangedEventSchema } from "../packages/core/src/outbox-bus.ts";
import {
  OrderLineSchema,
  STANDARD_EVENT_TYPES,
  STANDARD_SCHEMA_VERSION,
  StandardEventSchemas,
} from "../packages/core/src/standard-events.ts";

const conversion: ConversionConfig = {
  target: "draft-2020-12",
  // A `check` is a function and has no JSON Schema form: keep the rule as readable text instead.
  overrideAction: ({ valibotAction, jsonSchema }) =>
    valibotAction.type === "check"
      ? {
          ...jsonSchema,
          description: joinText(jsonSchema.description, (valibotAction as { message?: unknown }).message),
        }
      : undefined,
  // Same for `custom` schemas (the envelope's payload): the JSON type plus the rule as text.
  overrideSchema: ({ valibotSchema, jsonSchema }) =>
    valibotSchema.type === "custom"
      ? {
          ...jsonSchema,
          type: "object",
          description: joinText(jsonSchema.description, (valibotSchema as { message?: unknown }).message),
        }
      : undefined,
};

function joinText(...parts: unknown[]): string {
  return parts.filter((part) => typeof part === "string" && part.length > 0).join("; ");
}

/** `$schema`, then the header, then the converted schema: a stable, readable key order. */
function document(
  schema: v.GenericSchema,
  header: { title: string; description: string },
  config: ConversionConfig = conversion,
): JsonSchema {
  const { $schema, ...converted } = toJsonSchema(schema, config);
  return { $schema, ...header, ...converted };
}

function envelopeSchema(): JsonSchema {
  const schema = document(EnvelopeSchema, {
    title: "DVSS ingest envelope",
    description:
      `The body of POST /v1/events (the envelope contract, docs/contract). The whole body is at most ${MAX_BODY_BYTES} bytes of UTF-8; ` +
      `objects and arrays nest at most ${MAX_NESTING_DEPTH} levels in the payload (the payload is level 1) ` +
      "and in any other field; every string and key is well-formed Unicode (no lone surrogates).",
  });
  // JSON Schema's date-time format is RFC 3339 with a mandatory offset: the envelope's own rule.
  const occurredAt = (schema.properties as Record<string, JsonSchema> | undefined)?.occurredAt;
  if (occurredAt) occurredAt.format = "date-time";
  return schema;
}

const dataDescriptions: Record<string, string> = {
  InventoryUpdated: "The whole current quantity of a SKU in a warehouse.",
  InventoryAdjusted: "A change to the quantity of a SKU in a warehouse.",
  OrderCreated: "A new order with its lines.",
  OrderStatusChanged: "An order moved to a new status.",
};

function serialize(schema: JsonSchema): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/** Every generated file: path from the repository root → exact content. */
export function generateSchemaFiles(): Record<string, string> {
  const files: Record<string, string> = {
    "schemas/envelope.schema.json": serialize(envelopeSchema()),
  };
  for (const eventType of STANDARD_EVENT_TYPES) {
    files[`schemas/standard/${eventType}.schema.json`] = serialize(
      document(StandardEventSchemas[eventType], {
        title: `${eventType} data, schemaVersion ${STANDARD_SCHEMA_VERSION}`,
        description: `${dataDescriptions[eventType] ?? ""} The "data" of a normalized ${eventType} document.`,
      }),
    );
  }
  files["schemas/standard/normalized-document.schema.json"] = serialize(
    document(
      NormalizedDocumentSchema,
      {
        title: `Normalized document, schemaVersion ${STANDARD_SCHEMA_VERSION}`,
        description:
          "What the normalized bucket holds at normalized/<eventType>/YYYY/MM/DD/<ingestId>.json and the feed carries (docs/spec/canonical-state.md).",
      },
      { ...conversion, definitions: { ...StandardEventSchemas, OrderLine: OrderLineSchema } },
    ),
  );
  files[`schemas/bus/${OUTBOX_BUS_EVENT.detailType}.schema.json`] = serialize(
    document(StateChangedEventSchema, {
      title: `${OUTBOX_BUS_EVENT.detailType} bus event`,
      description:
        `What a stage's OutboxBus carries for every change in the feed (source "${OUTBOX_BUS_EVENT.source}"), as an EventBridge rule's target receives it: ` +
        "the feed item (cursor, entity, version) with its event's ids and type but not its data, and the entity's state after the change (docs/contract, bus events).",
    }),
  );
  return files;
}

export function writeSchemaFiles(root: string): string[] {
  const files = generateSchemaFiles();
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return Object.keys(files);
}

if (import.meta.main) {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  for (const path of writeSchemaFiles(root)) console.log(`wrote ${path}`);
}
