/**
 * The crosswalk (docs/spec/canonical-state.md, "Matching"): which canonical id a vendor's own key
 * stands for, per kind of identifier. The Match stage resolves every identifier of a standard
 * event through it; ApplyState folds the event under the canonical ids. Pure: the tables are read
 * and written by the ops (ops/crosswalk.ts) and the Match task.
 */
import * as v from "valibot";
import {
  AmbiguousMatchError,
  type FieldIssue,
  OperationRefusedError,
  UnitMismatchError,
  UnmatchedIdentifierError,
  UsageError,
} from "./errors.ts";
import { LruMap } from "./lru.ts";
import type { NormalizedDocument } from "./normalized.ts";
import { millisecondsSetting } from "./settings.ts";
import { DEFAULT_UNIT, MAX_TEXT_LENGTH, type StandardEventData } from "./standard-events.ts";

export const MATCH_KINDS = ["location", "product", "order"] as const;
export type MatchKind = (typeof MATCH_KINDS)[number];

/** vendor.json `match`, per kind: `identity` (the default) takes the vendor's key as the canonical id. */
export const MATCH_POLICIES = ["identity", "required"] as const;
export type MatchPolicy = (typeof MATCH_POLICIES)[number];
export type VendorMatchPolicy = Partial<Record<MatchKind, MatchPolicy>>;

export const VendorMatchPolicySchema = v.strictObject({
  location: v.optional(v.picklist(MATCH_POLICIES)),
  product: v.optional(v.picklist(MATCH_POLICIES)),
  order: v.optional(v.picklist(MATCH_POLICIES)),
});

/**
 * The most entries one vendor's crosswalk may hold: the Match task keeps a vendor's whole table in
 * memory (at most a few MB), so an import or an add past it is refused.
 */
export const MAX_CROSSWALK_ENTRIES = 10_000;
/** Changes kept on an entry (its history); older ones are dropped. */
export const MAX_ENTRY_HISTORY = 20;

const ID_PATTERN = /^\S(?:[\s\S]*\S)?$/;
const UNIT_PATTERN = /^[A-Za-z0-9_.-]{1,16}$/;
const text = v.pipe(
  v.string("must be a string"),
  v.nonEmpty("must not be empty"),
  v.maxLength(MAX_TEXT_LENGTH, `must be at most ${MAX_TEXT_LENGTH} characters`),
  v.regex(ID_PATTERN, "must not have leading or trailing whitespace"),
);
const unit = v.pipe(
  v.string("must be a string"),
  v.regex(UNIT_PATTERN, "must be a unit code such as EA or CS"),
);

/** One entry as a crosswalk file or the CLI gives it. */
export const CrosswalkEntryInputSchema = v.pipe(
  v.strictObject({
    kind: v.picklist(MATCH_KINDS, `must be one of ${MATCH_KINDS.join(" ")}`),
    vendorKey: text,
    canonicalId: text,
    /** Product only: the canonical product's unit. */
    unit: v.optional(unit),
    /** Product only: the unit this vendor counts the product in, converted by `factor`. */
    vendorUnit: v.optional(unit),
    /** Product only: one `vendorUnit` is `factor` of `unit` (a case of 12: 12). */
    factor: v.optional(
      v.pipe(v.number(), v.integer("must be an integer"), v.minValue(1, "must be 1 or more")),
    ),
  }),
  v.check(
    (entry) => entry.kind === "product" || (entry.unit ?? entry.vendorUnit ?? entry.factor) === undefined,
    "unit, vendorUnit and factor are for products only",
  ),
  v.check(
    (entry) => (entry.vendorUnit === undefined) === (entry.factor === undefined),
    "vendorUnit and factor go together",
  ),
  v.check(
    (entry) => entry.vendorUnit === undefined || entry.unit !== undefined,
    "a conversion (vendorUnit, factor) needs the canonical unit",
  ),
);
export type CrosswalkEntryInput = v.InferOutput<typeof CrosswalkEntryInputSchema>;

/** A crosswalk file: `schemas/crosswalk/<vendorId>.json`, or what `dvss crosswalk import` reads. */
export const CrosswalkFileSchema = v.strictObject({
  vendorId: v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,64}$/, "must be a vendor id")),
  entries: v.array(CrosswalkEntryInputSchema),
});
export type CrosswalkFile = v.InferOutput<typeof CrosswalkFileSchema>;

/** One change of an entry: who made it, when, and the canonical id it set (absent: removed). */
export interface CrosswalkChange {
  version: number;
  at: string;
  by: string;
  canonicalId?: string;
}

/** An entry as stored: the input, its version and history. */
export interface CrosswalkEntry extends CrosswalkEntryInput {
  vendorId: string;
  version: number;
  updatedAt: string;
  updatedBy: string;
  history: CrosswalkChange[];
}

export const entryKey = (kind: MatchKind, vendorKey: string) => `${kind}#${vendorKey}`;

function issuesOf(issues: readonly v.BaseIssue<unknown>[], prefix: string): FieldIssue[] {
  return issues.map((issue) => ({
    path: [prefix, ...(issue.path ?? []).map((item) => String(item.key))].filter(Boolean).join("."),
    message: issue.message,
  }));
}

/**
 * The one validation of crosswalk entries, for a file, an import and an add, locally and on a
 * stage: each entry's shape, no key given two canonical ids (in the entries, or against what
 * `existing` holds unless `replace`), and the vendor's bound. Refused with every problem named.
 */
export function validateCrosswalkEntries(
  vendorId: string,
  entries: readonly unknown[],
  existing: ReadonlyMap<string, Pick<CrosswalkEntry, "canonicalId">> = new Map(),
  options: { replace?: boolean } = {},
): CrosswalkEntryInput[] {
  const details: FieldIssue[] = [];
  const valid: CrosswalkEntryInput[] = [];
  const seen = new Map<string, string>();
  entries.forEach((raw, index) => {
    const parsed = v.safeParse(CrosswalkEntryInputSchema, raw);
    if (!parsed.success) {
      details.push(...issuesOf(parsed.issues, `entries.${index}`));
      return;
    }
    const entry = parsed.output;
    const key = entryKey(entry.kind, entry.vendorKey);
    const other = seen.get(key) ?? (options.replace ? undefined : existing.get(key)?.canonicalId);
    if (other !== undefined && other !== entry.canonicalId) {
      details.push({
        path: `entries.${index}`,
        message: `${vendorId} ${entry.kind} ${entry.vendorKey} is mapped to two canonical ids: ${other} and ${entry.canonicalId}`,
      });
      return;
    }
    seen.set(key, entry.canonicalId);
    valid.push(entry);
  });
  const total = new Set([...existing.keys(), ...seen.keys()]).size;
  if (total > MAX_CROSSWALK_ENTRIES) {
    details.push({
      path: "entries",
      message: `${vendorId} would have ${total} crosswalk entries, more than ${MAX_CROSSWALK_ENTRIES}`,
    });
  }
  if (details.length > 0) {
    throw new OperationRefusedError(`Crosswalk of ${vendorId} refused: ${details[0]?.message}`, { details });
  }
  return valid;
}

/** Parses a crosswalk file's JSON text (its entries are checked by validateCrosswalkEntries). */
export function parseCrosswalkFile(text: string, label: string): { vendorId: string; entries: unknown[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${label} is not JSON: ${(error as Error).message}`);
  }
  const shape = v.safeParse(
    v.strictObject({ vendorId: CrosswalkFileSchema.entries.vendorId, entries: v.array(v.unknown()) }),
    json,
  );
  if (!shape.success) {
    const details = issuesOf(shape.issues, "");
    throw new UsageError(`${label} is not a crosswalk file: ${details[0]?.path} ${details[0]?.message}`, {
      details,
    });
  }
  return shape.output;
}

/** A canonical id the Match stage resolved: the vendor's key, the entry and the version it read. */
export interface MatchedId {
  kind: MatchKind;
  vendorKey: string;
  canonicalId: string;
  version: number;
}

/** What Match gives ApplyState: the mapped identifiers, and for inventory the unit and conversion. */
export interface MatchResult {
  /** Identifiers the crosswalk maps; any other identifier is its own canonical id (identity). */
  matched: MatchedId[];
  /** The canonical unit of an inventory event when not EA. */
  unit?: string;
  /** The conversion factor into `unit`, when the crosswalk converts the event's unit. */
  factor?: number;
}

/** The identifiers of an event: (kind, vendor key, where it sits). */
export function identifiersOf(
  doc: Pick<NormalizedDocument, "eventType" | "data">,
): { kind: MatchKind; key: string }[] {
  const data = doc.data as Record<string, unknown>;
  switch (doc.eventType) {
    case "InventoryUpdated":
    case "InventoryAdjusted":
      return [
        { kind: "location", key: data.warehouseId as string },
        { kind: "product", key: data.sku as string },
      ];
    case "OrderCreated": {
      const order = doc.data as StandardEventData<"OrderCreated">;
      return [
        { kind: "order", key: order.orderId },
        ...(order.warehouseId !== undefined ? [{ kind: "location" as const, key: order.warehouseId }] : []),
        ...order.lines.map((line) => ({ kind: "product" as const, key: line.sku })),
      ];
    }
    case "OrderStatusChanged":
      return [{ kind: "order", key: data.orderId as string }];
  }
}

export const requiresMatching = (policy: VendorMatchPolicy | undefined) =>
  MATCH_KINDS.some((kind) => policy?.[kind] === "required");

/**
 * Resolves each identifier of `doc` through `lookup` (a vendor's table) under the vendor's policy
 * (docs/spec/canonical-state.md, "Matching"). Throws UNMATCHED_IDENTIFIER for a required kind
 * without an entry, AMBIGUOUS_MATCH when two keys of the event resolve to one canonical product
 * (two lines of one order), UNIT_MISMATCH when an inventory event's unit is not its product's.
 */
export function matchEvent(
  doc: Pick<NormalizedDocument, "eventType" | "data" | "vendorId">,
  policy: VendorMatchPolicy | undefined,
  lookup: (kind: MatchKind, vendorKey: string) => CrosswalkEntry | undefined,
): MatchResult {
  const matched: MatchedId[] = [];
  const resolved = new Map<string, string>();
  for (const { kind, key } of identifiersOf(doc)) {
    const entry = lookup(kind, key);
    const canonicalId = entry?.canonicalId ?? key;
    if (!entry && policy?.[kind] === "required") {
      throw new UnmatchedIdentifierError(
        `${doc.vendorId} ${kind} ${key} has no crosswalk entry, and ${doc.vendorId} requires one for every ${kind}`,
        { details: [{ path: kind, message: key }] },
      );
    }
    const seen = resolved.get(`${kind}#${canonicalId}`);
    if (seen !== undefined && seen !== key) {
      throw new AmbiguousMatchError(
        `${doc.vendorId} ${kind} keys ${seen} and ${key} both resolve to ${canonicalId} in one event`,
        { details: [{ path: kind, message: `${seen}, ${key} → ${canonicalId}` }] },
      );
    }
    resolved.set(`${kind}#${canonicalId}`, key);
    if (entry && !matched.some((m) => m.kind === kind && m.vendorKey === key)) {
      matched.push({ kind, vendorKey: key, canonicalId, version: entry.version });
    }
  }
  const result: MatchResult = { matched };
  if (doc.eventType === "InventoryUpdated" || doc.eventType === "InventoryAdjusted") {
    const { sku, unit: said = DEFAULT_UNIT } = doc.data as { sku: string; unit?: string };
    const product = lookup("product", sku);
    const converts = product?.vendorUnit !== undefined && product.vendorUnit === said;
    const unit = converts ? (product.unit as string) : said;
    // A product counts in its crosswalk unit, else in EA: never in whichever unit arrived first,
    // so which event is refused does not depend on arrival order.
    const expected = product?.unit ?? DEFAULT_UNIT;
    if (unit !== expected) {
      const canonical = product
        ? `its canonical product ${product.canonicalId}`
        : "a product without a crosswalk unit";
      throw new UnitMismatchError(
        `${doc.vendorId} product ${sku} counts in ${said}; ${canonical} counts in ${expected}` +
          (product?.vendorUnit ? ` (the crosswalk converts ${product.vendorUnit} only)` : ""),
        { details: [{ path: "unit", message: `${said}, expected ${expected}` }] },
      );
    }
    if (unit !== DEFAULT_UNIT) result.unit = unit;
    if (converts) result.factor = product.factor;
  }
  return result;
}

/**
 * The document ApplyState folds: the vendor's document with canonical ids and, for inventory, the
 * quantity in the canonical unit. What the vendor said stays beside it as `vendorData` when it
 * differs. Quantities stay integers; a conversion beyond 2^53−1 is QUANTITY_OUT_OF_RANGE downstream.
 */
export function canonicalDocument<D extends NormalizedDocument>(
  doc: D,
  match: MatchResult,
): D & { vendorData?: D["data"] } {
  const id = (kind: MatchKind, key: string) =>
    match.matched.find((m) => m.kind === kind && m.vendorKey === key)?.canonicalId ?? key;
  const factor = match.factor ?? 1;
  let data: Record<string, unknown>;
  const said = doc.data as Record<string, unknown>;
  switch (doc.eventType) {
    case "InventoryUpdated":
    case "InventoryAdjusted": {
      const { unit: _unit, ...rest } = said;
      data = {
        ...rest,
        warehouseId: id("location", said.warehouseId as string),
        sku: id("product", said.sku as string),
      };
      if ("quantityOnHand" in said) data.quantityOnHand = (said.quantityOnHand as number) * factor;
      if ("quantityDelta" in said) data.quantityDelta = (said.quantityDelta as number) * factor;
      // Without a unit or a conversion from Match (which may not have read the event), the event's own.
      const unit =
        match.unit !== undefined || match.factor !== undefined
          ? (match.unit ?? DEFAULT_UNIT)
          : ((said.unit as string | undefined) ?? DEFAULT_UNIT);
      // EA is left out unless the vendor said a unit: a document nothing changed stays the same.
      if (unit !== DEFAULT_UNIT || said.unit !== undefined) data.unit = unit;
      break;
    }
    case "OrderCreated": {
      const order = said as StandardEventData<"OrderCreated">;
      data = {
        orderId: id("order", order.orderId),
        lines: order.lines.map((line) => ({ ...line, sku: id("product", line.sku) })),
        ...(order.warehouseId !== undefined && { warehouseId: id("location", order.warehouseId) }),
      };
      break;
    }
    default:
      data = { ...said, orderId: id("order", said.orderId as string) };
  }
  const same = JSON.stringify(data) === JSON.stringify(said);
  return same ? doc : ({ ...doc, data, vendorData: doc.data } as D & { vendorData?: D["data"] });
}

/** How long a container keeps a vendor's crosswalk before reading it again (DVSS_CROSSWALK_CACHE_MS). */
export const DEFAULT_CROSSWALK_CACHE_MS = 30_000;
/** Vendors whose crosswalk a container keeps; past it the least recently used is dropped. */
export const MAX_CACHED_CROSSWALKS = 1_000;

export function crosswalkCacheMs(env: Record<string, string | undefined> = process.env): number {
  return millisecondsSetting(env, "DVSS_CROSSWALK_CACHE_MS", DEFAULT_CROSSWALK_CACHE_MS);
}

/** A vendor's crosswalk as read: entries by entryKey, removed ones without a canonical id. */
export type CrosswalkTable = ReadonlyMap<
  string,
  Omit<CrosswalkEntry, "canonicalId"> & { canonicalId?: string }
>;

export interface CrosswalkCache {
  /** The vendor's table, read at most once per `ttlMs` (or afresh with `fresh`), and when it was read. */
  get(vendorId: string, options?: { fresh?: boolean }): Promise<{ table: CrosswalkTable; readAt: number }>;
}

/**
 * Keeps each vendor's whole crosswalk (at most MAX_CROSSWALK_ENTRIES) for `ttlMs`: the Match task
 * reads a vendor's table once per period, not per event, so a vendor without entries costs no store
 * call per event. An entry added or changed reaches events within `ttlMs`; the Match task reads
 * afresh before quarantining an unmatched key, so a redrive right after `crosswalk add` matches.
 */
export function createCrosswalkCache(options: {
  read: (vendorId: string) => Promise<CrosswalkTable>;
  ttlMs?: number;
  maxVendors?: number;
  now?: () => number;
}): CrosswalkCache {
  const ttlMs = options.ttlMs ?? crosswalkCacheMs();
  const now = options.now ?? Date.now;
  const cache = new LruMap<string, { table: CrosswalkTable; readAt: number }>(
    options.maxVendors ?? MAX_CACHED_CROSSWALKS,
  );
  return {
    async get(vendorId, { fresh = false } = {}) {
      const cached = cache.get(vendorId);
      if (cached && !fresh && now() - cached.readAt < ttlMs) return cached;
      const readAt = now();
      const entry = { table: await options.read(vendorId), readAt };
      cache.set(vendorId, entry);
      return entry;
    },
  };
}

/** The entry in force for (kind, vendorKey) in a table, if any. */
export function lookupIn(
  table: CrosswalkTable,
): (kind: MatchKind, vendorKey: string) => CrosswalkEntry | undefined {
  return (kind, vendorKey) => {
    const entry = table.get(entryKey(kind, vendorKey));
    return entry?.canonicalId === undefined ? undefined : (entry as CrosswalkEntry);
  };
}

/**
 * ApplyState's check that what Match resolved still holds: an entry `table` knows at a later
 * version than Match read was changed (or removed) in between, so the event cannot be folded
 * under one canonical id: AMBIGUOUS_MATCH, and a redrive matches it again.
 */
export function assertMatchCurrent(vendorId: string, match: MatchResult, table: CrosswalkTable): void {
  for (const matched of match.matched) {
    const current = table.get(entryKey(matched.kind, matched.vendorKey));
    if (current && current.version > matched.version) {
      const now = current.canonicalId === undefined ? "was removed" : `now maps to ${current.canonicalId}`;
      throw new AmbiguousMatchError(
        `${vendorId} ${matched.kind} ${matched.vendorKey} matched ${matched.canonicalId} (v${matched.version}) and ${now} (v${current.version}) before the event was applied`,
        { details: [{ path: matched.kind, message: matched.vendorKey }] },
      );
    }
  }
}
