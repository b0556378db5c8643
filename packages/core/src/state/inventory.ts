import { QuantityOutOfRangeError, UnitMismatchError } from "../errors.ts";
import { composeKey, rawKey } from "../keys.ts";
import { DEFAULT_UNIT } from "../standard-events.ts";
import {
  compareFoldPositions,
  type FoldPosition,
  foldPositionOf,
  insertSorted,
  instantMillis,
  instantOf,
} from "./fold-position.ts";
import { valueBytes } from "./item-size.ts";
import {
  type ApplyOptions,
  type ApplyOutcome,
  DEFAULT_STATE_RULES,
  type Divergence,
  type DivergentEvent,
  type EntityRef,
  type InventoryDocument,
  type InventoryEntry,
  type StateRuleOptions,
} from "./types.ts";
import { saidBy, type VendorKeyRef, vendorKeyOf, withVendorKey } from "./vendor-keys.ts";

/**
 * The fold of one warehouse/sku: a base quantity (everything up to `through`, whose events only
 * the log keeps) and the events after it in fold order. The quantity is the base, then each entry: set or add.
 */
export interface InventoryFold {
  base: { quantity: number; through?: FoldPosition };
  entries: InventoryEntry[];
}

/** the HTTP API contract, docs/contract, GET /v1/state/inventory/{warehouseId}/{sku}. */
export interface InventoryView {
  warehouseId: string;
  sku: string;
  quantityOnHand: number;
  asOf: string;
  version: number;
  lastIngestId: string;
  sourceVendorId: string;
  /** The unit the quantity counts in, when not EA: its product's, as Match gave it (docs/spec/canonical-state.md, "Units"). */
  unit?: string;
  /** The vendor keys the crosswalk mapped to this entity (vendor-keys.ts); absent when none. */
  vendorKeys?: VendorKeyRef[];
}

export interface InventoryState extends InventoryView {
  fold: InventoryFold;
}

/** The entity key of the HTTP API contract, docs/contract: `<warehouseId>#<sku>`, each with `%` and `#` escaped (composeKey). */
export function inventoryKey(warehouseId: string, sku: string): string {
  return composeKey(warehouseId, sku);
}

export function inventoryView(state: InventoryView): InventoryView {
  const { warehouseId, sku, quantityOnHand, asOf, version, lastIngestId, sourceVendorId, unit, vendorKeys } =
    state;
  return {
    warehouseId,
    sku,
    quantityOnHand,
    asOf,
    version,
    lastIngestId,
    sourceVendorId,
    ...(unit !== undefined && { unit }),
    ...(vendorKeys !== undefined && { vendorKeys }),
  };
}

/** The event being applied, named if the fold cannot take it. */
interface Applying {
  entity: EntityRef;
  ingestId: string;
}

/**
 * The quantity after `entries`, from `start`. Every step must stay a safe integer: past 2^53−1 a sum
 * is no longer exact (and the store would refuse it), so the event being applied is refused before
 * anything is written, with a permanent QUANTITY_OUT_OF_RANGE naming the entity. Checking every
 * step, not only the end, keeps every stored history foldable again.
 */
function foldQuantity(start: number, entries: readonly InventoryEntry[], applying: Applying): number {
  let quantity = start;
  for (const entry of entries) {
    quantity = entry.op === "set" ? entry.value : quantity + entry.value;
    if (!Number.isSafeInteger(quantity)) {
      const { entity, ingestId } = applying;
      throw new QuantityOutOfRangeError(
        `Inventory ${entity.key}: with event ${ingestId} the quantity passes ±${Number.MAX_SAFE_INTEGER} (2^53−1), beyond what is stored exactly`,
        { details: [{ path: "entity", message: `${entity.type} ${entity.key}` }] },
      );
    }
  }
  return quantity;
}

function describe(entry: InventoryEntry, warehouseId: string, sku: string): DivergentEvent {
  return {
    ingestId: entry.ingestId,
    vendorId: entry.key.vendorId,
    externalEventId: entry.key.externalEventId,
    eventType: entry.op === "set" ? "InventoryUpdated" : "InventoryAdjusted",
    occurredAt: entry.occurredAt,
    said:
      entry.op === "set"
        ? { warehouseId, sku, quantityOnHand: entry.value }
        : { warehouseId, sku, quantityDelta: entry.value },
    rawKey: rawKey(entry.key.vendorId, entry.ingestId),
  };
}

/**
 * Folds what is older than the watermark (newest occurredAt minus watermarkMs), anything beyond
 * maxEntries, and the oldest while the entries take more than maxFoldBytes, into the base. What is
 * folded leaves the item (the entity's log keeps it): the item stays bounded, in events and in bytes.
 */
function compact(fold: InventoryFold, rules: StateRuleOptions, applying: Applying): InventoryFold {
  const { entries } = fold;
  const newest = entries.at(-1);
  if (!newest) return fold;
  const watermark = instantMillis(newest.key.at) - rules.watermarkMs;
  let cut = 0;
  while (cut < entries.length && instantMillis((entries[cut] as InventoryEntry).key.at) < watermark) cut++;
  cut = Math.max(cut, entries.length - Math.max(1, rules.maxEntries));
  // Each entry as an element of the stored list; the newest always stays.
  let bytes = entries.slice(cut).reduce((sum, entry) => sum + 1 + valueBytes(entry), 0);
  while (cut < entries.length - 1 && bytes > rules.maxFoldBytes) {
    bytes -= 1 + valueBytes(entries[cut]);
    cut++;
  }
  if (cut === 0) return fold;
  const folded = entries.slice(0, cut);
  return {
    base: {
      quantity: foldQuantity(fold.base.quantity, folded, applying),
      through: (folded.at(-1) as InventoryEntry).key,
    },
    entries: entries.slice(cut),
  };
}

/** What the log must give to fold an event: its logged events with an instant in [from, through]. */
export interface HistoryRange {
  /** Absent: from the entity's first event. */
  from?: string;
  through: string;
  /** True once the events read so far (in instant order) are all the fold can use. */
  enough(read: readonly InventoryEntry[]): boolean;
}

/** 0000-01-01T00:00:00Z: the earliest instant an RFC 3339 date-time can name. */
const EARLIEST_MS = -62_167_219_200_000;

/** The instant `ms` milliseconds from the epoch, as instantOf writes it; undefined before year 0. */
function instantAt(ms: number): string | undefined {
  return ms < EARLIEST_MS ? undefined : instantOf(new Date(ms).toISOString());
}

/**
 * Whether applying `doc` needs the entity's log, and which part (docs/spec/canonical-state.md,
 * "Late events"): an event that sorts at or before the item's base needs the events after it that
 * the base holds (up to the first later snapshot); a snapshot also needs the snapshots within the
 * conflict window that the base holds. Undefined when the item alone suffices.
 */
export function historyNeeded(
  state: InventoryState | undefined,
  doc: InventoryDocument,
  options: ApplyOptions,
): HistoryRange | undefined {
  const through = state?.fold.base.through;
  if (!through || state.fold.entries.some((entry) => entry.ingestId === doc.ingestId)) return undefined;
  const rules = { ...DEFAULT_STATE_RULES, ...options.rules };
  const key = foldPositionOf(doc, options.priority);
  const isSnapshot = doc.eventType === "InventoryUpdated";
  const at = instantMillis(key.at);
  const late = compareFoldPositions(key, through) <= 0;
  const reachesBase = isSnapshot && at - rules.conflictWindowMs <= instantMillis(through.at);
  if (!late && !reachesBase) return undefined;
  const from = isSnapshot ? instantAt(at - rules.conflictWindowMs) : key.at;
  return {
    ...(from !== undefined && { from }),
    through: through.at,
    enough: (read) =>
      read.some(
        (other) =>
          other.op === "set" &&
          compareFoldPositions(other.key, key) > 0 &&
          (!isSnapshot || instantMillis(other.key.at) > at + rules.conflictWindowMs),
      ),
  };
}

/**
 * Applies one inventory event (docs/spec/canonical-state.md). Pure: the same state, event and
 * history give the same outcome.
 *
 * - Already in the item or in the history (same ingestId): nothing changes, nothing is reported.
 * - Otherwise the event joins the history (version + 1) at its place in fold order, in the kept
 *   window or, sorting at or before it, in the base (`options.history`, from the entity's log, as
 *   historyNeeded says). If a later snapshot is already there it cannot change the quantity:
 *   STALE_EVENT (BEFORE_SNAPSHOT), yet it counts, so the version does not depend on whether it
 *   came before or after that snapshot.
 * - A quantity below zero is kept: NEGATIVE_QUANTITY_RESULT.
 * - A quantity beyond ±(2^53−1), at any step of the fold, is refused: QuantityOutOfRangeError.
 * - Two vendors' snapshots within conflictWindowMs that disagree: CONFLICTING_SOURCE, on the later one.
 */
export function applyInventoryEvent(
  state: InventoryState | undefined,
  doc: InventoryDocument,
  options: ApplyOptions,
): ApplyOutcome<InventoryState> {
  const rules = { ...DEFAULT_STATE_RULES, ...options.rules };
  const { warehouseId, sku } = doc.data;
  if (state && (state.warehouseId !== warehouseId || state.sku !== sku)) {
    throw new Error(
      `Event ${doc.ingestId} is for ${inventoryKey(warehouseId, sku)}, not ${inventoryKey(state.warehouseId, state.sku)}`,
    );
  }
  const needed = historyNeeded(state, doc, options);
  if (needed && !options.history) {
    throw new Error(
      `Event ${doc.ingestId} sorts into the base of ${inventoryKey(warehouseId, sku)}: its fold needs the log`,
    );
  }
  const history = needed ? (options.history ?? []) : [];
  const alreadyApplied = (entry: InventoryEntry) => entry.ingestId === doc.ingestId;
  if (state?.fold.entries.some(alreadyApplied) || history.some(alreadyApplied)) {
    return { item: state as InventoryState, changed: false, divergences: [] };
  }

  const entity: EntityRef = { type: "inventory", key: inventoryKey(warehouseId, sku) };
  // Match admits only the product's unit; an entity whose entry's unit changed since keeps its own.
  const unit = doc.data.unit ?? DEFAULT_UNIT;
  const entityUnit = state ? (state.unit ?? DEFAULT_UNIT) : unit;
  if (unit !== entityUnit) {
    throw new UnitMismatchError(
      `Inventory ${entity.key} counts in ${entityUnit}; event ${doc.ingestId} counts in ${unit} and the crosswalk gives no conversion`,
      { details: [{ path: "unit", message: `${unit}, expected ${entityUnit}` }] },
    );
  }
  const stateBefore = state ? { ...inventoryView(state) } : null;
  const entry: InventoryEntry = {
    key: foldPositionOf(doc, options.priority),
    ingestId: doc.ingestId,
    occurredAt: doc.occurredAt,
    op: doc.eventType === "InventoryUpdated" ? "set" : "add",
    value: doc.eventType === "InventoryUpdated" ? doc.data.quantityOnHand : doc.data.quantityDelta,
  };
  const said = saidBy(doc);
  const arriving = { ...describe(entry, warehouseId, sku), rawKey: doc.rawRef.key, ...(said && { said }) };
  const divergence = (kind: Divergence["kind"], reason: string, related?: DivergentEvent): Divergence => ({
    kind,
    entity,
    ...arriving,
    stateBefore,
    reason,
    ...(related && { related }),
  });
  const applying = { entity, ingestId: doc.ingestId };

  const fold = state?.fold ?? { base: { quantity: 0 }, entries: [] };
  const { through } = fold.base;
  // What the base holds, from the log: the item's window is the rest.
  const inBase = through ? history.filter((other) => compareFoldPositions(other.key, through) <= 0) : [];
  let base = fold.base;
  let entries = fold.entries;
  let laterSnapshot: InventoryEntry | undefined;
  if (through && compareFoldPositions(entry.key, through) <= 0) {
    // Late: the event joins the base, in its place among the events the base holds.
    const after = inBase.filter((other) => compareFoldPositions(other.key, entry.key) > 0);
    const snapshotInBase = after.find((other) => other.op === "set");
    laterSnapshot = snapshotInBase ?? entries.find((other) => other.op === "set");
    if (!snapshotInBase) {
      // No snapshot after it in the base: what follows it there are additions.
      const quantity =
        entry.op === "add"
          ? foldQuantity(base.quantity, [entry], applying)
          : foldQuantity(0, [entry, ...after], applying);
      base = { quantity, through };
    }
  } else {
    const inserted = insertSorted(fold.entries, entry);
    entries = inserted.list;
    laterSnapshot = entries.slice(inserted.index + 1).find((other) => other.op === "set");
  }

  const divergences: Divergence[] = [];
  if (laterSnapshot) {
    const reason =
      "BEFORE_SNAPSHOT: the event sorts before a snapshot already applied, so it cannot change the quantity";
    divergences.push(divergence("STALE_EVENT", reason, describe(laterSnapshot, warehouseId, sku)));
  }
  if (entry.op === "set") {
    const at = instantMillis(entry.key.at);
    for (const other of [...inBase, ...entries]) {
      if (
        other === entry ||
        other.op !== "set" ||
        other.key.vendorId === entry.key.vendorId ||
        other.value === entry.value ||
        Math.abs(instantMillis(other.key.at) - at) > rules.conflictWindowMs
      ) {
        continue;
      }
      const reason = `Vendors ${entry.key.vendorId} and ${other.key.vendorId} report different quantities within ${rules.conflictWindowMs} ms`;
      const [earlier, later] =
        compareFoldPositions(other.key, entry.key) < 0 ? [other, entry] : [entry, other];
      const laterEvent = later === entry ? arriving : describe(later, warehouseId, sku);
      divergences.push({
        kind: "CONFLICTING_SOURCE",
        entity,
        ...laterEvent,
        stateBefore,
        reason,
        related: earlier === entry ? arriving : describe(earlier, warehouseId, sku),
      });
    }
  }

  const quantityOnHand = foldQuantity(base.quantity, entries, applying);
  if (!laterSnapshot && quantityOnHand < 0) {
    divergences.push(
      divergence("NEGATIVE_QUANTITY_RESULT", `The quantity is ${quantityOnHand} after the event`),
    );
  }

  const compacted = compact({ base, entries }, rules, applying);
  const newest = compacted.entries.at(-1) as InventoryEntry;
  return {
    item: {
      warehouseId,
      sku,
      quantityOnHand,
      asOf: newest.occurredAt,
      version: (state?.version ?? 0) + 1,
      lastIngestId: newest.ingestId,
      sourceVendorId: newest.key.vendorId,
      ...(unit !== DEFAULT_UNIT && { unit }),
      ...withKeys(withVendorKey(state?.vendorKeys, vendorKeyOf(doc, ["warehouseId", "sku"]))),
      fold: compacted,
    },
    changed: true,
    divergences,
  };
}

const withKeys = (vendorKeys: VendorKeyRef[] | undefined) => (vendorKeys ? { vendorKeys } : {});
