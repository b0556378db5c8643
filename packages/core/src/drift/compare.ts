import type { FieldIssue } from "../errors.ts";
import type { DriftKind, DriftSeverity } from "./kinds.ts";
import { childPath, type DriftProfile, type FieldProfile, jsonType } from "./profile.ts";

/** One difference between an event's payload and its version's profile. */
export interface DriftObservation {
  kind: DriftKind;
  /** The payload field, dotted, arrays transparent (`lines.sku`). */
  path: string;
  expected: string;
  seen: string;
}

/** At most this many observations per event: a payload of 10,000 junk fields costs 20, not 10,000. */
export const MAX_OBSERVATIONS_PER_EVENT = 20;
/** Paths and values are cut to this many characters in a finding. */
export const MAX_TEXT = 120;

export function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}

const show = (value: unknown) => clip(`${jsonType(value)} ${JSON.stringify(value) ?? ""}`);
const list = (values: Iterable<unknown>) => {
  const all = [...values].map((value) => JSON.stringify(value));
  return clip(all.length > 8 ? `${all.slice(0, 8).join(", ")}, … (${all.length})` : all.join(", "));
};

/** A seen type the allowed set covers (`integer` is a `number`). */
function allows(types: Set<string>, seen: string): boolean {
  return types.has(seen) || (seen === "integer" && types.has("number"));
}

/** A number far outside the examples: of the other sign, or ten times their largest magnitude. */
function farOutsideNumber(range: { min: number; max: number }, value: number): boolean {
  const magnitude = Math.max(Math.abs(range.min), Math.abs(range.max), 1);
  return (value < 0 && range.min >= 0) || Math.abs(value) > 10 * magnitude;
}

/** A string far outside the examples: empty where they never are, or four times their longest (16 at least). */
function farOutsideLength(range: { min: number; max: number }, length: number): boolean {
  return (length === 0 && range.min > 0) || length > Math.max(4 * range.max, 16);
}

/** What the walk asks of a profile's paths, computed once per profile. */
interface Derived {
  /** Paths with known children. */
  parents: Set<string>;
  /** Path → its children the schema requires. */
  required: Map<string, string[]>;
  /** Paths with a path the mapping reads below them. */
  readParents: Set<string>;
}

const derivedOf = new WeakMap<DriftProfile, Derived>();

const parentOf = (path: string) => {
  const dot = path.lastIndexOf(".");
  return dot < 0 ? "" : path.slice(0, dot);
};

function derived(profile: DriftProfile): Derived {
  let found = derivedOf.get(profile);
  if (found) return found;
  found = { parents: new Set(), required: new Map(), readParents: new Set() };
  for (const [path, field] of profile.fields) {
    if (path === "") continue;
    const parent = parentOf(path);
    found.parents.add(parent);
    if (field.required)
      found.required.set(parent, [
        ...(found.required.get(parent) ?? []),
        path.slice(parent ? parent.length + 1 : 0),
      ]);
  }
  for (let read of profile.reads) {
    while (read.includes(".")) {
      read = parentOf(read);
      found.readParents.add(read);
    }
  }
  derivedOf.set(profile, found);
  return found;
}

/**
 * Compares one payload with its version's profile in one walk, stopping at
 * MAX_OBSERVATIONS_PER_EVENT. Undeclared fields are not walked into: the field is the finding.
 */
export function comparePayload(profile: DriftProfile, payload: unknown): DriftObservation[] {
  const found: DriftObservation[] = [];
  const seenKeys = new Set<string>();
  const add = (observation: DriftObservation) => {
    const key = `${observation.kind}\u0000${observation.path}`;
    if (found.length >= MAX_OBSERVATIONS_PER_EVENT || seenKeys.has(key)) return;
    seenKeys.add(key);
    found.push({ ...observation, path: clip(observation.path) });
  };

  function walk(value: unknown, path: string, depth: number): void {
    if (found.length >= MAX_OBSERVATIONS_PER_EVENT || depth > 32) return;
    if (Array.isArray(value)) {
      for (const item of value) walk(item, path, depth + 1);
      return;
    }
    const here = profile.fields.get(path);
    if (here) checkValue(here, value, path);
    if (typeof value !== "object" || value === null) return;
    const object = value as Record<string, unknown>;
    for (const [key, child] of Object.entries(object)) {
      const path_ = childPath(path, key);
      const known = profile.fields.get(path_);
      const expected = known && (known.declared || known.read || known.exampleTypes.size > 0);
      if (!expected && here && !here.open && (here.instances > 0 || hasChildren(path))) {
        add({
          kind: "undeclared_field",
          path: path_,
          expected: "not in the schema, the examples or the mapping",
          seen: show(child),
        });
        continue;
      }
      walk(child, path_, depth + 1);
    }
    if (here) checkAbsent(here, object, path);
  }

  const { parents, required, readParents } = derived(profile);
  const hasChildren = (path: string) => parents.has(path);

  function checkValue(here: FieldProfile, value: unknown, path: string): void {
    const type = jsonType(value);
    if (type === "array") return;
    const allowed = here.exampleTypes.size > 0 ? here.exampleTypes : here.schemaTypes;
    if (allowed.size > 0 && !allows(allowed, type)) {
      const source = here.exampleTypes.size > 0 ? "examples" : "schema";
      add({
        kind: "type_widened",
        path,
        expected: `${[...allowed].join(" or ")} (${source})`,
        seen: show(value),
      });
      return;
    }
    if (here.enum && !here.enum.some((word) => word === value)) {
      add({ kind: "new_value", path, expected: `one of ${list(here.enum)} (schema)`, seen: show(value) });
      return;
    }
    if (
      !here.enum &&
      here.words &&
      here.words.size > 0 &&
      typeof value === "string" &&
      !here.words.has(value)
    ) {
      add({
        kind: "new_value",
        path,
        expected: `one of ${list(here.words)} (mapping and examples)`,
        seen: show(value),
      });
      return;
    }
    if (typeof value === "number" && here.numberRange && farOutsideNumber(here.numberRange, value)) {
      const { min, max } = here.numberRange;
      add({ kind: "out_of_range", path, expected: `about ${min}..${max} (examples)`, seen: show(value) });
    } else if (typeof value === "string" && !here.enum && here.stringLength) {
      if (farOutsideLength(here.stringLength, value.length)) {
        const { min, max } = here.stringLength;
        add({
          kind: "out_of_range",
          path,
          expected: `${min}..${max} characters (examples)`,
          seen: `${value.length} characters`,
        });
      }
    }
  }

  /** Declared or read children that every example carries (or the schema requires) and this object lacks. */
  function checkAbsent(here: FieldProfile, object: Record<string, unknown>, path: string): void {
    for (const [key, count] of here.carriedBy) {
      if (count === here.instances && !Object.hasOwn(object, key))
        absent(path, key, `in every example (${count})`);
    }
    for (const key of required.get(path) ?? []) {
      // Unless the loop above named it already.
      const carried = here.carriedBy.get(key) === here.instances;
      if (!carried && !Object.hasOwn(object, key)) absent(path, key, "required by the schema");
    }
  }

  function absent(path: string, key: string, why: string): void {
    const path_ = childPath(path, key);
    const child = profile.fields.get(path_);
    add({
      kind: child?.read || hasReadUnder(path_) ? "mapped_path_absent" : "field_absent",
      path: path_,
      expected: child?.required ? "required by the schema" : why,
      seen: "absent",
    });
  }

  const hasReadUnder = (path: string) => readParents.has(path);

  walk(payload, "", 0);
  return found;
}

/** How the event's validation and mapping ended: passed, or the failure's code and details. */
export type DriftVerdict = { passed: true } | { passed: false; code: string; details: FieldIssue[] };

/** Failures of the event's own format: findings they implicate are breaking. */
const FORMAT_FAILURES = new Set([
  "SCHEMA_VALIDATION_FAILED",
  "MAPPING_FAILED",
  "MAPPING_TIMEOUT",
  "MAPPING_RESOURCE_LIMIT",
]);

const plain = (path: string) =>
  path
    .split(".")
    .filter((segment) => !/^\d+$/.test(segment))
    .join(".");
const related = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);

/**
 * Breaking: the event failed validation or mapping, and the failure implicates the finding's path.
 * Validation names payload paths. A mapping failure that names an output field (`data.status`)
 * implicates the payload paths that field's expression reads; one that names none (the
 * expression threw) implicates every path the mapping reads. Anything else is non-breaking: the
 * event passes today, or failed for a reason that is not its format.
 */
export function classify(
  profile: DriftProfile,
  observation: DriftObservation,
  verdict: DriftVerdict,
): DriftSeverity {
  if (verdict.passed || !FORMAT_FAILURES.has(verdict.code)) return "non_breaking";
  const implicated = new Set<string>();
  for (const detail of verdict.details) {
    const path = plain(detail.path);
    if (verdict.code === "SCHEMA_VALIDATION_FAILED") {
      if (path === "payload" || path.startsWith("payload.")) implicated.add(path.slice("payload.".length));
      continue;
    }
    const output = [...profile.outputs].filter(([name]) => related(name, path));
    for (const read of output.length > 0 ? output.flatMap(([, reads]) => [...reads]) : profile.reads) {
      implicated.add(read);
    }
  }
  for (const path of implicated) if (related(observation.path, path)) return "breaking";
  return "non_breaking";
}
