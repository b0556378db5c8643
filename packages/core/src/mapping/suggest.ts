import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type Envelope, validateEnvelope } from "../envelope.ts";
import { DvssError, type DvssErrorOptions, type FieldIssue } from "../errors.ts";
import {
  MAX_TEXT_LENGTH,
  ORDER_STATUSES,
  STANDARD_EVENT_TYPES,
  type StandardEventType,
} from "../standard-events.ts";
import { checkExamples, type ExampleCheckReport, exampleOutput } from "./check.ts";
import { compileMappingVersion } from "./compile.ts";
import { EVENT_TYPE_PATTERN, VERSION_PATTERN } from "./definitions.ts";
import { EXAMPLES_DIR, MAPPING_FILE, PAYLOAD_SCHEMA_FILE, subdirectories } from "./fs-source.ts";

/**
 * `dvss mapping suggest`: a first version folder for a vendor event type, inferred from sample
 * envelopes (docs/spec/mappings.md, "Suggesting a version"). The payload schema is what the samples
 * show; the mapping is proposed from field names, types and values; the samples become the golden
 * examples, with expected documents produced by the proposed mapping. What it cannot map is left
 * out, named, for a human to finish. Same samples, same bytes: nothing depends on the clock, the
 * order files are listed in or the machine.
 */

/** Samples refused, or a folder that would be overwritten: exit 1, nothing written. */
export class SuggestRefusedError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("REFUSED", message, options);
    this.name = "SuggestRefusedError";
  }
}

export interface Sample {
  /** The example's name: the file name without `.input.json` or `.json`. */
  name: string;
  envelope: Envelope;
}

/** Where a standard field comes from, or why it is left to a human. */
export interface FieldSuggestion {
  /** The standard field: `warehouseId`, `lines[].quantity`, ... */
  field: string;
  /** The JSONata expression proposed, when a payload field fits. */
  expression?: string;
  /** The payload fields it reads, e.g. `payload.location.code`. */
  from?: string[];
  /** Why the field is not mapped, or what of it is not (status words without a standard status). */
  unmapped?: string;
}

export interface Suggestion {
  standard: StandardEventType;
  payloadSchema: Record<string, unknown>;
  mapping: string;
  fields: FieldSuggestion[];
  /** Payload fields the mapping does not read (a human may want some of them). */
  unused: string[];
}

export interface SuggestResult extends Suggestion {
  vendorId: string;
  eventType: string;
  version: string;
  versionDir: string;
  /** Examples written with their expected document; the others could not be mapped yet. */
  examples: { name: string; expected: boolean; error?: string }[];
  /** `mapping check` of the new folder. */
  check: ExampleCheckReport;
}

const INPUT_SUFFIX = ".input.json";
const EXPECTED_SUFFIX = ".expected.json";

// ---------------------------------------------------------------------------------------------
// Samples

/**
 * The sample envelopes of a folder: every `*.json` file except `*.expected.json` (so an examples
 * folder can be given as is), in name order. Refused, with one detail per file and field, when a
 * file is not an envelope or names another vendor or event type.
 */
export async function readSamples(
  samplesDir: string,
  vendorId: string,
  eventType: string,
): Promise<Sample[]> {
  let files: string[];
  try {
    files = (await readdir(samplesDir, { withFileTypes: true }))
      .filter(
        (entry) => entry.isFile() && entry.name.endsWith(".json") && !entry.name.endsWith(EXPECTED_SUFFIX),
      )
      .map((entry) => entry.name)
      .sort();
  } catch (cause) {
    throw new SuggestRefusedError(
      `Cannot read the samples folder ${samplesDir}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  if (files.length === 0) {
    throw new SuggestRefusedError(`${samplesDir} holds no sample envelopes (*.json)`);
  }
  const samples: Sample[] = [];
  const problems: FieldIssue[] = [];
  for (const file of files) {
    const name = file.endsWith(INPUT_SUFFIX)
      ? file.slice(0, -INPUT_SUFFIX.length)
      : file.slice(0, -".json".length);
    let body: unknown;
    try {
      body = JSON.parse(await readFile(join(samplesDir, file), "utf8"));
    } catch (error) {
      problems.push({ path: file, message: `not JSON: ${(error as Error).message}` });
      continue;
    }
    let envelope: Envelope;
    try {
      envelope = validateEnvelope(body);
    } catch (error) {
      const details = error instanceof DvssError ? error.details : [];
      for (const detail of details)
        problems.push({ path: `${file}: ${detail.path}`, message: detail.message });
      if (details.length === 0) problems.push({ path: file, message: (error as Error).message });
      continue;
    }
    if (envelope.vendorId !== vendorId) {
      problems.push({ path: `${file}: vendorId`, message: `is "${envelope.vendorId}", not "${vendorId}"` });
    }
    if (envelope.eventType !== eventType) {
      problems.push({
        path: `${file}: eventType`,
        message: `is "${envelope.eventType}", not "${eventType}"`,
      });
    }
    const twin = samples.find((other) => other.name === name);
    if (twin) {
      problems.push({ path: file, message: `gives the example name "${name}" that another sample has` });
    }
    samples.push({ name, envelope });
  }
  if (problems.length > 0) {
    throw new SuggestRefusedError(
      `Every sample must be an envelope of ${vendorId} ${eventType} (docs/contract/README.md); ${problems.length} problem(s)`,
      { details: problems },
    );
  }
  return samples;
}

// ---------------------------------------------------------------------------------------------
// Field names

/** A payload field: its segments from the payload (`[]` for "each element of an array"). */
type Path = string[];

interface Leaf {
  path: Path;
  /** Every value seen, in sample order (elements of arrays included). */
  values: unknown[];
}

/** Lower-case words of a name, and their joins: `qtyChange` → qty, change, qtychange. */
function wordsOf(segment: string): Set<string> {
  const tokens = segment
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((token) => token.length > 0);
  const words = new Set(tokens);
  for (let i = 0; i + 1 < tokens.length; i++) words.add(`${tokens[i]}${tokens[i + 1]}`);
  words.add(tokens.join(""));
  return words;
}

const hits = (segment: string | undefined, vocabulary: ReadonlySet<string>) =>
  segment !== undefined && [...wordsOf(segment)].some((word) => vocabulary.has(word));

const WAREHOUSE = new Set([
  "warehouse",
  "warehouseid",
  "wh",
  "whse",
  "site",
  "location",
  "loc",
  "store",
  "depot",
  "facility",
  "dc",
  "plant",
  "branch",
  "shipfrom",
  "fulfillment",
]);
const PRODUCT = new Set(["sku", "item", "product", "article", "part", "upc", "ean", "gtin", "material"]);
const ORDER = new Set(["order", "orderid", "po", "purchaseorder", "salesorder"]);
const IDENTIFIER = new Set(["id", "code", "ref", "reference", "key", "number", "no", "num"]);
const ON_HAND = new Set([
  "qty",
  "quantity",
  "onhand",
  "available",
  "stock",
  "units",
  "count",
  "level",
  "balance",
  "instock",
]);
const DELTA = new Set([
  "delta",
  "change",
  "adjustment",
  "adjust",
  "diff",
  "difference",
  "movement",
  "moved",
  "variance",
]);
const STATUS = new Set(["status", "state", "stage"]);
// Words that name what a value describes, not an identifier: never an id or a quantity.
const NOT_AN_ID = new Set([
  "name",
  "description",
  "desc",
  "label",
  "title",
  "address",
  "note",
  "notes",
  "comment",
  "date",
  "time",
  "at",
  "unit",
  "uom",
  "type",
]);
const NEGATIVE_WORDS = new Set([
  "out",
  "outbound",
  "decrease",
  "remove",
  "removal",
  "issue",
  "minus",
  "debit",
  "subtract",
  "negative",
  "-",
]);
const POSITIVE_WORDS = new Set([
  "in",
  "inbound",
  "increase",
  "add",
  "addition",
  "receipt",
  "receive",
  "plus",
  "credit",
  "positive",
  "+",
]);
const DIRECTION = new Set(["direction", "dir", "sign", "movement", "type", "kind"]);

/** Vendor words for the standard statuses (OrderStatusChanged never carries CREATED). */
const STATUS_WORDS: Record<(typeof ORDER_STATUSES)[number], string[]> = {
  ACKED: ["acked", "ack", "acknowledged", "accepted", "confirmed"],
  PICKED: ["picked"],
  SHIPPED: ["shipped", "dispatched", "sent", "intransit"],
  DELIVERED: ["delivered"],
  CANCELED: ["canceled", "cancelled", "cancel", "voided", "void"],
};

function standardStatusOf(word: string): string | undefined {
  const plain = word.toLowerCase().replace(/[^a-z]/g, "");
  for (const status of ORDER_STATUSES) if (STATUS_WORDS[status].includes(plain)) return status;
  return undefined;
}

const INTEGER_TEXT = /^-?[0-9]{1,15}$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Every scalar field of the payloads, in the order first seen; array elements under `[]`. */
function leavesOf(payloads: unknown[]): Leaf[] {
  const leaves = new Map<string, Leaf>();
  const visit = (value: unknown, path: Path) => {
    if (Array.isArray(value)) {
      for (const element of value) visit(element, [...path, "[]"]);
      return;
    }
    if (isObject(value)) {
      for (const [key, child] of Object.entries(value)) visit(child, [...path, key]);
      return;
    }
    const id = JSON.stringify(path);
    let leaf = leaves.get(id);
    if (!leaf) {
      leaf = { path, values: [] };
      leaves.set(id, leaf);
    }
    leaf.values.push(value);
  };
  for (const payload of payloads) visit(payload, []);
  return [...leaves.values()];
}

const named = (path: Path) => path.filter((segment) => segment !== "[]");
const arrayDepth = (path: Path) => path.filter((segment) => segment === "[]").length;
const isIdValue = (value: unknown) =>
  (typeof value === "string" && value.trim().length > 0) || Number.isSafeInteger(value);
const isQuantityValue = (value: unknown) =>
  Number.isSafeInteger(value) || (typeof value === "string" && INTEGER_TEXT.test(value));

/**
 * How well a field names an identifier of `vocabulary`: the field itself (`warehouse`, `item_code`)
 * or an id under it (`location.code`, `item.id`). Undefined when it does not.
 */
function idScore(leaf: Leaf, vocabulary: ReadonlySet<string>): number | undefined {
  if (!leaf.values.every(isIdValue)) return undefined;
  const segments = named(leaf.path);
  const own = segments.at(-1);
  const parent = segments.at(-2);
  if (hits(own, NOT_AN_ID) || hits(own, ON_HAND) || hits(own, DELTA)) return undefined;
  const depthPenalty = segments.length / 100;
  if (hits(own, vocabulary)) return (hits(own, IDENTIFIER) ? 4 : 3) - depthPenalty;
  const ownIsId = own !== undefined && [...wordsOf(own)].every((word) => IDENTIFIER.has(word));
  if (ownIsId && hits(parent, vocabulary)) return 2 - depthPenalty;
  return undefined;
}

/** The best-scoring leaf; ties go to the shorter, then the alphabetically first path (deterministic). */
function best(leaves: Leaf[], score: (leaf: Leaf) => number | undefined): Leaf | undefined {
  let chosen: { leaf: Leaf; score: number; key: string } | undefined;
  for (const leaf of leaves) {
    const value = score(leaf);
    if (value === undefined) continue;
    const key = leaf.path.join(".");
    const before =
      !chosen ||
      value > chosen.score ||
      (value === chosen.score &&
        (key.length < chosen.key.length || (key.length === chosen.key.length && key < chosen.key)));
    if (before) chosen = { leaf, score: value, key };
  }
  return chosen?.leaf;
}

function quantityScore(leaf: Leaf, vocabulary: ReadonlySet<string>, exclude?: ReadonlySet<string>) {
  if (!leaf.values.every(isQuantityValue)) return undefined;
  const own = named(leaf.path).at(-1);
  if (!hits(own, vocabulary) || (exclude && hits(own, exclude))) return undefined;
  return 1 - named(leaf.path).length / 100;
}

/** A field of sign words (in/out, increase/decrease, ...) with at least one negative, or a name that says so. */
function directionOf(leaves: Leaf[]): { leaf: Leaf; negative: string[] } | undefined {
  return leaves
    .filter((leaf) => arrayDepth(leaf.path) === 0)
    .flatMap((leaf) => {
      if (!leaf.values.every((value) => typeof value === "string")) return [];
      const words = [...new Set(leaf.values as string[])].sort();
      const known = words.every(
        (word) => NEGATIVE_WORDS.has(word.toLowerCase()) || POSITIVE_WORDS.has(word.toLowerCase()),
      );
      const negative = words.filter((word) => NEGATIVE_WORDS.has(word.toLowerCase()));
      if (!known || (negative.length === 0 && !hits(named(leaf.path).at(-1), DIRECTION))) return [];
      return [{ leaf, negative }];
    })[0];
}

// ---------------------------------------------------------------------------------------------
// JSONata

const IDENTIFIER_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const quote = (text: string) => JSON.stringify(text);
// Names JSONata reads as operators or literals: a field so named is back-quoted.
const RESERVED = new Set(["and", "or", "in", "true", "false", "null", "function"]);

/** A JSONata path from `base` (`payload`, or "" for the context) through `segments` (no `[]`). */
function pathExpression(segments: Path, base = "payload"): string {
  let expression = base;
  for (const segment of segments) {
    // A back-quote cannot be escaped inside a back-quoted name: look such a field up by its string.
    if (segment.includes("`")) expression = `$lookup(${expression || "$"}, ${quote(segment)})`;
    else {
      const step = IDENTIFIER_NAME.test(segment) && !RESERVED.has(segment) ? segment : `\`${segment}\``;
      expression = expression ? `${expression}.${step}` : step;
    }
  }
  return expression;
}

/** Ids are text in a standard event, and trimmed. */
function idExpression(leaf: Leaf, expression: string): string {
  const text = leaf.values.every((value) => typeof value === "string")
    ? expression
    : `$string(${expression})`;
  const padded = leaf.values.some((value) => typeof value === "string" && value !== value.trim());
  return padded ? `$trim(${text})` : text;
}

function quantityExpression(leaf: Leaf, expression: string): string {
  return leaf.values.every((value) => typeof value === "number") ? expression : `$number(${expression})`;
}

/** How reports name a payload field: `payload.items[].units`. */
const display = (path: Path) =>
  ["payload", ...path].reduce((text, segment) => (segment === "[]" ? `${text}[]` : `${text}.${segment}`));

interface Proposal {
  standard: StandardEventType;
  fields: FieldSuggestion[];
  /** Paths the mapping reads, and those to be enums in the schema (with their allowed words). */
  used: Set<string>;
  enums: Map<string, string[]>;
  /** Id and quantity fields: never an enum, strings at least one character. */
  ids: Set<string>;
}

function detectStandard(leaves: Leaf[], eventType: string): { standard?: StandardEventType; why: string } {
  const top = leaves.filter((leaf) => arrayDepth(leaf.path) === 0);
  const inArrays = leaves.filter((leaf) => arrayDepth(leaf.path) === 1);
  const orderId = best(top, (leaf) => idScore(leaf, ORDER));
  const lineSku = best(inArrays, (leaf) => idScore(leaf, PRODUCT));
  const status = top.find((leaf) => hits(named(leaf.path).at(-1), STATUS));
  const eventWords = wordsOf(eventType);
  if (orderId && lineSku) return { standard: "OrderCreated", why: "an order id and an array of items" };
  if (orderId && status) return { standard: "OrderStatusChanged", why: "an order id and a status" };
  if (best(top, (leaf) => quantityScore(leaf, DELTA)))
    return { standard: "InventoryAdjusted", why: "a change of quantity" };
  const quantity = best(top, (leaf) => quantityScore(leaf, ON_HAND));
  if (quantity && (directionOf(leaves) || [...eventWords].some((word) => DELTA.has(word)))) {
    return { standard: "InventoryAdjusted", why: "a quantity with a direction" };
  }
  if (quantity) return { standard: "InventoryUpdated", why: "a quantity on hand" };
  return { why: "no order id, status, array of items or quantity among the payload's fields" };
}

function propose(leaves: Leaf[], standard: StandardEventType): Proposal {
  const fields: FieldSuggestion[] = [];
  const used = new Set<string>();
  const enums = new Map<string, string[]>();
  const ids = new Set<string>();
  const top = leaves.filter((leaf) => arrayDepth(leaf.path) === 0);
  const key = (leaf: Leaf) => JSON.stringify(leaf.path);
  const use = (leaf: Leaf, asId: boolean) => {
    used.add(key(leaf));
    if (asId) ids.add(key(leaf));
  };
  const unmapped = (field: string, what: string) =>
    fields.push({ field, unmapped: `no payload field looks like ${what}` });

  const idField = (field: string, vocabulary: ReadonlySet<string>, what: string, optional = false) => {
    const leaf = best(top, (candidate) => idScore(candidate, vocabulary));
    if (!leaf) {
      if (!optional) unmapped(field, what);
      return;
    }
    use(leaf, true);
    fields.push({
      field,
      expression: idExpression(leaf, pathExpression(leaf.path)),
      from: [display(leaf.path)],
    });
  };

  if (standard === "InventoryUpdated" || standard === "InventoryAdjusted") {
    idField("warehouseId", WAREHOUSE, "a warehouse, site, location or store");
    idField("sku", PRODUCT, "a SKU, item or product code");
    if (standard === "InventoryUpdated") {
      const leaf = best(top, (candidate) => quantityScore(candidate, ON_HAND, DELTA));
      if (!leaf) unmapped("quantityOnHand", "a quantity (qty, quantity, on_hand, available, stock)");
      else {
        use(leaf, true);
        fields.push({
          field: "quantityOnHand",
          expression: quantityExpression(leaf, pathExpression(leaf.path)),
          from: [display(leaf.path)],
        });
      }
    } else {
      const delta = best(top, (candidate) => quantityScore(candidate, DELTA));
      const direction = delta ? undefined : directionOf(leaves);
      const quantity = delta ?? best(top, (candidate) => quantityScore(candidate, ON_HAND));
      if (!quantity)
        unmapped("quantityDelta", "a change of quantity (delta, change, adjustment) or a quantity");
      else if (!direction) {
        use(quantity, true);
        fields.push({
          field: "quantityDelta",
          expression: quantityExpression(quantity, pathExpression(quantity.path)),
          from: [display(quantity.path)],
        });
      } else {
        use(quantity, true);
        use(direction.leaf, false);
        const words = [...new Set(direction.leaf.values as string[])].sort();
        enums.set(key(direction.leaf), words);
        const amount = quantityExpression(quantity, pathExpression(quantity.path));
        const sign = pathExpression(direction.leaf.path);
        const negative =
          direction.negative.length === 1
            ? `${sign} = ${quote(direction.negative[0] as string)}`
            : `${sign} in [${direction.negative.map(quote).join(", ")}]`;
        fields.push({
          field: "quantityDelta",
          expression: `${negative} ? -${amount} : ${amount}`,
          from: [display(quantity.path), display(direction.leaf.path)],
          ...(direction.negative.length === 0 && {
            unmapped: `${display(direction.leaf.path)}: no value of the samples is a removal; say which words subtract`,
          }),
        });
      }
    }
  } else if (standard === "OrderCreated") {
    idField("orderId", ORDER, "an order id");
    const inArrays = leaves.filter((leaf) => arrayDepth(leaf.path) === 1);
    const sku = best(inArrays, (candidate) => idScore(candidate, PRODUCT));
    const arrayPath = sku ? sku.path.slice(0, sku.path.indexOf("[]")) : undefined;
    const inLines = arrayPath
      ? inArrays.filter(
          (leaf) =>
            JSON.stringify(leaf.path.slice(0, arrayPath.length + 1)) === JSON.stringify([...arrayPath, "[]"]),
        )
      : [];
    const quantity = best(inLines, (candidate) => quantityScore(candidate, ON_HAND, DELTA));
    if (!sku || !arrayPath) unmapped("lines", "an array of items with a SKU, item or product code");
    else {
      const relative = (leaf: Leaf) => leaf.path.slice(arrayPath.length + 1);
      use(sku, true);
      const parts = [`"sku": ${idExpression(sku, pathExpression(relative(sku), ""))}`];
      const from = [display(sku.path)];
      if (quantity) {
        use(quantity, true);
        parts.push(`"quantity": ${quantityExpression(quantity, pathExpression(relative(quantity), ""))}`);
        from.push(display(quantity.path));
      }
      fields.push({
        field: "lines",
        expression: `[${pathExpression(arrayPath)}.{ ${parts.join(", ")} }]`,
        from,
        ...(!quantity && { unmapped: "lines[].quantity: no field of the items looks like a quantity" }),
      });
    }
    idField("warehouseId", WAREHOUSE, "a warehouse", true);
  } else {
    idField("orderId", ORDER, "an order id");
    const status = best(top, (leaf) =>
      hits(named(leaf.path).at(-1), STATUS) && leaf.values.every((value) => typeof value === "string")
        ? 1
        : undefined,
    );
    if (!status) unmapped("status", "a status or state");
    else {
      use(status, false);
      const words = [...new Set(status.values as string[])].sort();
      const matched = words.filter((word) => standardStatusOf(word) !== undefined);
      const missing = words.filter((word) => standardStatusOf(word) === undefined);
      const expression = pathExpression(status.path);
      const sameWords =
        matched.length === words.length &&
        words.every((word) => standardStatusOf(word) === word.toUpperCase());
      let mapped: string;
      if (sameWords) {
        // The standard words in the vendor's case: every standard status is allowed, not only those seen.
        const upper = words.every((word) => word === word.toUpperCase());
        const lower = words.every((word) => word === word.toLowerCase());
        enums.set(
          JSON.stringify(status.path),
          upper ? [...ORDER_STATUSES] : lower ? ORDER_STATUSES.map((word) => word.toLowerCase()) : words,
        );
        mapped = upper ? expression : `$uppercase(${expression})`;
      } else {
        enums.set(JSON.stringify(status.path), words);
        const table = matched.map((word) => `${quote(word)}: ${quote(standardStatusOf(word) as string)}`);
        mapped = `$lookup({ ${table.join(", ")} }, ${expression})`;
      }
      fields.push({
        field: "status",
        expression: mapped,
        from: [display(status.path)],
        ...(missing.length > 0 && {
          unmapped: `status words without a standard status (${ORDER_STATUSES.join(" ")}): ${missing.map(quote).join(", ")}`,
        }),
      });
    }
  }
  return { standard, fields, used, enums, ids };
}

function renderMapping(proposal: Proposal, samples: number): string {
  const lines = [
    `/* Proposed by \`dvss mapping suggest\` from ${samples} sample(s): review it before publishing. */`,
    "{",
    `  "eventType": ${quote(proposal.standard)},`,
    `  "data": {`,
  ];
  const mapped = proposal.fields.filter((field) => field.expression !== undefined);
  mapped.forEach((field, index) => {
    lines.push(`    ${quote(field.field)}: ${field.expression}${index < mapped.length - 1 ? "," : ""}`);
  });
  for (const field of proposal.fields) {
    if (field.unmapped)
      lines.push(`    /* TODO ${field.field}: ${field.unmapped.replace(/\*\//g, "* /")} */`);
  }
  lines.push("  }", "}", "");
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Payload schema

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** At most this many distinct words make an enum, when the values repeat and hold no digits. */
const MAX_ENUM_VALUES = 8;

type JsonSchema = Record<string, unknown>;

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (Number.isSafeInteger(value)) return "integer";
  return typeof value === "number" ? "number" : typeof value;
}

function inferSchema(values: unknown[], path: Path, proposal: Proposal): JsonSchema {
  const byKind = new Map<string, unknown[]>();
  for (const value of values) {
    const kind = kindOf(value);
    byKind.set(kind, [...(byKind.get(kind) ?? []), value]);
  }
  // An integer among numbers is a number.
  if (byKind.has("integer") && byKind.has("number")) {
    byKind.set("number", [...(byKind.get("number") ?? []), ...(byKind.get("integer") ?? [])]);
    byKind.delete("integer");
  }
  const schemas = [...byKind.entries()].map(([kind, group]) => schemaOfKind(kind, group, path, proposal));
  if (schemas.length === 0) return {};
  return schemas.length === 1 ? (schemas[0] as JsonSchema) : { anyOf: schemas };
}

function schemaOfKind(kind: string, values: unknown[], path: Path, proposal: Proposal): JsonSchema {
  const key = JSON.stringify(path);
  if (kind === "object") {
    const objects = values as Record<string, unknown>[];
    const keys: string[] = [];
    for (const object of objects)
      for (const name of Object.keys(object)) if (!keys.includes(name)) keys.push(name);
    // fromEntries defines each key as the object's own, "__proto__" included.
    const properties: Record<string, JsonSchema> = Object.fromEntries(
      keys.map((name) => [
        name,
        inferSchema(
          objects.filter((object) => Object.hasOwn(object, name)).map((object) => object[name]),
          [...path, name],
          proposal,
        ),
      ]),
    );
    const required = keys.filter((name) => objects.every((object) => Object.hasOwn(object, name)));
    return {
      type: "object",
      properties,
      ...(required.length > 0 && { required }),
      additionalProperties: false,
    };
  }
  if (kind === "array") {
    const arrays = values as unknown[][];
    const elements = arrays.flat();
    return {
      type: "array",
      ...(arrays.every((array) => array.length > 0) && { minItems: 1 }),
      ...(elements.length > 0 && { items: inferSchema(elements, [...path, "[]"], proposal) }),
    };
  }
  if (kind === "string") {
    const strings = values as string[];
    const allowed = proposal.enums.get(key);
    if (allowed) return { enum: allowed };
    if (proposal.ids.has(key)) {
      if (strings.every((text) => INTEGER_TEXT.test(text))) {
        const signed = strings.some((text) => text.startsWith("-"));
        return { type: "string", pattern: signed ? "^-?[0-9]{1,15}$" : "^[0-9]{1,15}$" };
      }
      return { type: "string", minLength: 1, maxLength: MAX_TEXT_LENGTH };
    }
    if (strings.every((text) => DATE_TIME.test(text))) return { type: "string", format: "date-time" };
    if (strings.every((text) => DATE.test(text))) return { type: "string", format: "date" };
    const distinct = [...new Set(strings)].sort();
    if (
      distinct.length <= MAX_ENUM_VALUES &&
      distinct.length < strings.length &&
      distinct.every((text) => /^[A-Za-z][A-Za-z _-]*$/.test(text))
    ) {
      return { enum: distinct };
    }
    return { type: "string" };
  }
  return { type: kind };
}

// ---------------------------------------------------------------------------------------------
// The whole suggestion

export interface SuggestOptions {
  vendorId: string;
  eventType: string;
  samples: Sample[];
  /** The standard event to map to; inferred from the fields when absent. */
  standard?: StandardEventType;
  version: string;
}

/** The schema, mapping and field report for the samples. Pure: the same samples give the same result. */
export function suggestMapping(options: SuggestOptions): Suggestion {
  const payloads = options.samples.map((sample) => sample.envelope.payload);
  const leaves = leavesOf(payloads);
  let standard = options.standard;
  if (!standard) {
    const detected = detectStandard(leaves, options.eventType);
    if (!detected.standard) {
      throw new SuggestRefusedError(
        `Cannot tell which standard event the samples are (${detected.why}): give --standard ${STANDARD_EVENT_TYPES.join("|")}`,
      );
    }
    standard = detected.standard;
  }
  const proposal = propose(leaves, standard);
  const schema = inferSchema(payloads, [], proposal);
  const payloadSchema = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: `${options.vendorId} ${options.eventType}, version ${options.version}`,
    description: `Inferred by dvss mapping suggest from ${options.samples.length} sample(s): fields present in every sample are required.`,
    ...schema,
  };
  const unused = leaves
    .filter((leaf) => !proposal.used.has(JSON.stringify(leaf.path)))
    .map((leaf) => display(leaf.path));
  return {
    standard,
    payloadSchema,
    mapping: renderMapping(proposal, options.samples.length),
    fields: proposal.fields,
    unused,
  };
}

/**
 * The next version of an event type under a definitions tree: one more than the highest whole
 * number among its version folders, or "1".
 */
export async function nextVersion(vendorsDir: string, vendorId: string, eventType: string): Promise<string> {
  const versions = existsSync(join(vendorsDir, vendorId, eventType))
    ? await subdirectories(join(vendorsDir, vendorId, eventType))
    : [];
  const numbers = versions.filter((version) => /^[0-9]{1,9}$/.test(version)).map(Number);
  return String(numbers.length > 0 ? Math.max(...numbers) + 1 : 1);
}

export interface WriteSuggestionOptions {
  samplesDir: string;
  vendorId: string;
  eventType: string;
  standard?: StandardEventType;
  /** The version folder to write: `<...>/<vendorId>/<eventType>/<version>/`; must not exist. */
  versionDir: string;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/**
 * Reads the samples, writes the suggested version folder (payload schema, mapping, each sample as
 * an example with the document the mapping gives it) and runs `mapping check` on it. A sample the
 * proposed mapping cannot map yet gets no expected file: its check fails until a human finishes
 * the mapping and writes it.
 */
export async function writeSuggestion(options: WriteSuggestionOptions): Promise<SuggestResult> {
  const { vendorId, eventType, versionDir } = options;
  const version = basename(versionDir);
  const folderIds = {
    vendorId: basename(dirname(dirname(versionDir))),
    eventType: basename(dirname(versionDir)),
  };
  if (
    folderIds.vendorId !== vendorId ||
    folderIds.eventType !== eventType ||
    !VERSION_PATTERN.test(version)
  ) {
    throw new SuggestRefusedError(
      `${versionDir} is not a version folder ${vendorId}/${eventType}/<version>/ (mapping check and publish read the ids from the path)`,
    );
  }
  if (!EVENT_TYPE_PATTERN.test(eventType)) {
    throw new SuggestRefusedError(`eventType "${eventType}" must be 1-64 characters of a-z 0-9 . _ -`);
  }
  if (existsSync(versionDir)) {
    throw new SuggestRefusedError(
      `${versionDir} exists already: a suggestion never overwrites a version folder`,
    );
  }
  const samples = await readSamples(options.samplesDir, vendorId, eventType);
  const suggestion = suggestMapping({
    vendorId,
    eventType,
    samples,
    version,
    ...(options.standard && { standard: options.standard }),
  });

  // An example names the folder's version, or none (then the active version maps it).
  const examples = samples.map((sample) => ({
    name: sample.name,
    envelope:
      sample.envelope.schemaVersion === undefined
        ? sample.envelope
        : { ...sample.envelope, schemaVersion: version },
  }));
  const compiled = compileMappingVersion({
    vendorId,
    eventType,
    version,
    payloadSchema: suggestion.payloadSchema,
    mapping: suggestion.mapping,
  });
  const outputs = [];
  for (const example of examples) {
    try {
      outputs.push({ ...example, expected: await exampleOutput(compiled, example.envelope) });
    } catch (error) {
      const details = error instanceof DvssError ? error.details.map((d) => `${d.path}: ${d.message}`) : [];
      outputs.push({ ...example, error: details.length > 0 ? details.join("; ") : (error as Error).message });
    }
  }

  await mkdir(join(versionDir, EXAMPLES_DIR), { recursive: true });
  await writeFile(join(versionDir, PAYLOAD_SCHEMA_FILE), json(suggestion.payloadSchema), { flag: "wx" });
  await writeFile(join(versionDir, MAPPING_FILE), suggestion.mapping, { flag: "wx" });
  for (const output of outputs) {
    await writeFile(join(versionDir, EXAMPLES_DIR, `${output.name}${INPUT_SUFFIX}`), json(output.envelope), {
      flag: "wx",
    });
    if ("expected" in output) {
      await writeFile(
        join(versionDir, EXAMPLES_DIR, `${output.name}${EXPECTED_SUFFIX}`),
        json(output.expected),
        {
          flag: "wx",
        },
      );
    }
  }
  const check = await checkExamples(versionDir);
  return {
    vendorId,
    eventType,
    version,
    versionDir,
    ...suggestion,
    examples: outputs.map((output) =>
      "expected" in output
        ? { name: output.name, expected: true }
        : { name: output.name, expected: false, error: output.error },
    ),
    check,
  };
}
