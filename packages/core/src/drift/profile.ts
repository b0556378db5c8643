import jsonata from "jsonata";

/**
 * A version's drift profile (docs/spec/drift.md): what its payload schema declares, what its golden
 * examples show and which payload fields its mapping reads, by field path. Built once per
 * (vendorId, eventType, version) and cached like the compiled mapping; an event is compared with
 * it in one walk of its payload (compare.ts).
 *
 * Paths are dotted and arrays are transparent, as in JSONata and in the validator's details once
 * their indexes are dropped: `lines.sku` is the sku of every line.
 */

export interface FieldProfile {
  /** Named in the schema's `properties` (or the mapping reads it). */
  declared: boolean;
  /** In its object's `required`. */
  required: boolean;
  /** JSON types the schema allows (`integer` for whole numbers); empty: any. */
  schemaTypes: Set<string>;
  /** The schema's `enum` (or `const`), when it has one. */
  enum?: unknown[];
  /** Object fields the schema does not constrain (additionalProperties or patternProperties): no undeclared-field finding below. */
  open: boolean;
  /** JSON types the examples show. */
  exampleTypes: Set<string>;
  /** Object instances at this path in the examples, and how many carried each child. */
  instances: number;
  carriedBy: Map<string, number>;
  stringLength?: { min: number; max: number };
  numberRange?: { min: number; max: number };
  /** The mapping reads this path. */
  read: boolean;
  /** Words the mapping translates this field with (`$lookup` keys, literals compared with it), plus what the examples show. */
  words?: Set<string>;
}

export interface DriftProfile {
  id: string;
  fields: Map<string, FieldProfile>;
  /** Every payload path the mapping reads. */
  reads: Set<string>;
  /** Output field of the mapping (`data.status`) → the payload paths its expression reads. */
  outputs: Map<string, Set<string>>;
}

export interface ProfileSource {
  id: string;
  payloadSchema: Record<string, unknown>;
  mapping: string;
  /** Payloads of the version's golden examples (none for a version published without its folder). */
  examples: unknown[];
}

/** The path of a child field. */
export const childPath = (path: string, key: string) => (path === "" ? key : `${path}.${key}`);

function field(profile: DriftProfile, path: string): FieldProfile {
  let found = profile.fields.get(path);
  if (!found) {
    found = {
      declared: false,
      required: false,
      schemaTypes: new Set(),
      open: false,
      exampleTypes: new Set(),
      instances: 0,
      carriedBy: new Map(),
      read: false,
    };
    profile.fields.set(path, found);
  }
  return found;
}

/** The JSON type of a value as a schema names it (`integer` for a whole number). */
export function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

type Schema = Record<string, unknown>;
const isObject = (value: unknown): value is Schema =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Local `#/$defs/x` and `#/definitions/x` references only; any other is left unresolved. */
function resolve(root: Schema, schema: Schema, depth: number): Schema | undefined {
  if (typeof schema.$ref !== "string") return schema;
  if (depth > 16) return undefined;
  const match = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(schema.$ref);
  const target = match ? (root[match[1] as string] as Schema | undefined)?.[match[2] as string] : undefined;
  return isObject(target) ? resolve(root, target, depth + 1) : undefined;
}

function addSchema(profile: DriftProfile, root: Schema, raw: unknown, path: string, depth = 0): void {
  if (!isObject(raw) || depth > 32) return;
  const schema = resolve(root, raw, depth);
  if (!schema) {
    // An unresolved reference: nothing is known below it, so nothing is flagged there.
    field(profile, path).open = true;
    return;
  }
  const here = field(profile, path);
  const types =
    typeof schema.type === "string" ? [schema.type] : Array.isArray(schema.type) ? schema.type : [];
  for (const type of types) here.schemaTypes.add(String(type));
  if (Array.isArray(schema.enum)) here.enum = [...(here.enum ?? []), ...schema.enum];
  if ("const" in schema) here.enum = [...(here.enum ?? []), schema.const];
  if (isObject(schema.additionalProperties) || isObject(schema.patternProperties)) here.open = true;
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  if (isObject(schema.properties)) {
    for (const [key, child] of Object.entries(schema.properties)) {
      const childField = field(profile, childPath(path, key));
      childField.declared = true;
      if (required.has(key)) childField.required = true;
      addSchema(profile, root, child, childPath(path, key), depth + 1);
    }
  }
  // Arrays are transparent: their items describe the same path.
  if (isObject(schema.items)) addSchema(profile, root, schema.items, path, depth + 1);
  for (const combinator of ["allOf", "anyOf", "oneOf"]) {
    const branches = schema[combinator];
    if (Array.isArray(branches))
      for (const branch of branches) addSchema(profile, root, branch, path, depth + 1);
  }
}

function addExample(profile: DriftProfile, value: unknown, path: string, depth = 0): void {
  if (depth > 32) return;
  if (Array.isArray(value)) {
    for (const item of value) addExample(profile, item, path, depth + 1);
    return;
  }
  const here = field(profile, path);
  here.exampleTypes.add(jsonType(value));
  if (typeof value === "string") {
    here.stringLength = widen(here.stringLength, value.length);
    here.words?.add(value);
  } else if (typeof value === "number") {
    here.numberRange = widen(here.numberRange, value);
  } else if (isObject(value)) {
    here.instances += 1;
    for (const [key, child] of Object.entries(value)) {
      here.carriedBy.set(key, (here.carriedBy.get(key) ?? 0) + 1);
      addExample(profile, child, childPath(path, key), depth + 1);
    }
  }
}

const widen = (range: { min: number; max: number } | undefined, value: number) =>
  range ? { min: Math.min(range.min, value), max: Math.max(range.max, value) } : { min: value, max: value };

/** Builds the profile of one version: its schema, then what its mapping reads, then its examples. */
export function buildDriftProfile(source: ProfileSource): DriftProfile {
  const profile: DriftProfile = { id: source.id, fields: new Map(), reads: new Set(), outputs: new Map() };
  addSchema(profile, source.payloadSchema, source.payloadSchema, "");
  for (const read of mappingReads(source.mapping)) {
    const path = read.path.join(".");
    profile.reads.add(path);
    const readField = field(profile, path);
    readField.read = true;
    if (read.words) {
      readField.words ??= new Set();
      for (const word of read.words) readField.words.add(word);
    }
    if (read.output !== undefined) {
      const paths = profile.outputs.get(read.output) ?? new Set();
      paths.add(path);
      profile.outputs.set(read.output, paths);
    }
  }
  // Examples after reads: the example words of a field the mapping translates are part of its words.
  for (const example of source.examples) addExample(profile, example, "");
  return profile;
}

export interface MappingRead {
  /** Payload path, by field name. */
  path: string[];
  /** The output field whose expression reads it (`data.status`), when it is inside one. */
  output?: string;
  /** The words the mapping translates the field with (`$lookup` keys, compared literals). */
  words?: string[];
}

type Node = Record<string, unknown> & { type?: string; value?: unknown };

/**
 * The payload paths a JSONata mapping reads, from its AST: paths from the envelope's `payload`,
 * and names relative to one of its steps (an object constructor, a filter, a function applied to
 * each item). A path through a variable (`$x.field`), a wildcard or a computed step is not followed.
 */
export function mappingReads(source: string): MappingRead[] {
  let ast: Node;
  try {
    ast = jsonata(source).ast() as Node;
  } catch {
    return [];
  }
  const reads: MappingRead[] = [];
  const bindings = new Map<string, string[]>();

  // ctx: the payload path the expression is evaluated at; null: the envelope; undefined: unknown.
  function walk(node: unknown, ctx: string[] | null | undefined, output: string | undefined): void {
    if (Array.isArray(node)) {
      for (const item of node) walk(item, ctx, output);
      return;
    }
    if (!isObject(node)) return;
    const n = node as Node;
    switch (n.type) {
      case "path":
        walkPath(n, ctx, output);
        return;
      case "bind": {
        const words = literalKeys(n.rhs);
        if (isObject(n.lhs) && words) bindings.set(String(n.lhs.value), words);
        walk(n.rhs, ctx, output);
        return;
      }
      case "unary":
        if (n.value === "{" && Array.isArray(n.lhs)) {
          for (const pair of n.lhs as unknown[][]) {
            const [key, value] = pair;
            const name = isObject(key) && key.type === "string" ? String(key.value) : undefined;
            walk(key, ctx, output);
            walk(value, ctx, name === undefined ? output : output === undefined ? name : `${output}.${name}`);
          }
          return;
        }
        break;
      case "function": {
        const procedure = isObject(n.procedure) ? n.procedure.value : undefined;
        const args = Array.isArray(n.arguments) ? n.arguments : [];
        if (procedure === "lookup" && args.length === 2) {
          const table = args[0] as Node;
          const words = table.type === "variable" ? bindings.get(String(table.value)) : literalKeys(table);
          translate(args[1], ctx, output, words ?? []);
          walk(args[0], ctx, output);
          return;
        }
        break;
      }
      case "binary":
        if (n.value === "=" || n.value === "!=" || n.value === "in") {
          const literals = [...literalStrings(n.lhs), ...literalStrings(n.rhs)];
          if (literals.length > 0) {
            translate(n.lhs, ctx, output, literals);
            translate(n.rhs, ctx, output, literals);
            return;
          }
        }
        break;
    }
    for (const [key, child] of Object.entries(n)) if (key !== "position") walk(child, ctx, output);
  }

  /** Walks an expression whose payload reads the mapping translates with `words`. */
  function translate(
    node: unknown,
    ctx: string[] | null | undefined,
    output: string | undefined,
    words: string[],
  ) {
    const before = reads.length;
    walk(node, ctx, output);
    for (const read of reads.slice(before)) read.words = [...(read.words ?? []), ...words];
  }

  function walkPath(n: Node, ctx: string[] | null | undefined, output: string | undefined): void {
    let current = ctx;
    let last: string[] | undefined;
    const steps = Array.isArray(n.steps) ? (n.steps as Node[]) : [];
    steps.forEach((step, index) => {
      if (step.type === "name" && current !== undefined) {
        if (current === null) current = step.value === "payload" ? [] : undefined;
        else current = [...current, String(step.value)];
        if (current && current.length > 0) last = current;
      } else if (step.type === "variable" && step.value === "" && index === 0) {
        // `$`: the context itself.
      } else {
        walk(step, current, output);
        current = undefined;
      }
      if (Array.isArray(step.stages)) walk(step.stages, current, output);
    });
    if (last) reads.push({ path: last, ...(output !== undefined && { output }) });
  }

  walk(ast, null, undefined);
  return reads;
}

function literalKeys(node: unknown): string[] | undefined {
  if (!isObject(node) || node.type !== "unary" || node.value !== "{" || !Array.isArray(node.lhs))
    return undefined;
  const keys = (node.lhs as unknown[][]).map(([key]) =>
    isObject(key) && key.type === "string" ? String(key.value) : undefined,
  );
  return keys.every((key) => key !== undefined) ? (keys as string[]) : undefined;
}

function literalStrings(node: unknown): string[] {
  if (!isObject(node)) return [];
  if (node.type === "string") return [String(node.value)];
  if (node.type === "unary" && node.value === "[" && Array.isArray(node.expressions)) {
    return node.expressions.flatMap(literalStrings);
  }
  return [];
}
