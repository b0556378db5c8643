import type { NormalizedDocument } from "../normalized.ts";
import type { FoldPosition } from "./fold-position.ts";

export type EntityType = "inventory" | "order";

/**
 * The entity an event belongs to; `key` is `<warehouseId>#<sku>` (each with `%` and `#` escaped as
 * `%25` and `%23`, so no two pairs share a key) or the orderId (the HTTP API contract, docs/contract).
 */
export interface EntityRef {
  type: EntityType;
  key: string;
}

/** One remembered event: InventoryUpdated sets (`set`), InventoryAdjusted adds (`add`). */
export interface InventoryEntry {
  key: FoldPosition;
  ingestId: string;
  occurredAt: string;
  op: "set" | "add";
  value: number;
}

export type InventoryDocument = Extract<
  NormalizedDocument,
  { eventType: "InventoryUpdated" | "InventoryAdjusted" }
>;
export type OrderDocument = Extract<NormalizedDocument, { eventType: "OrderCreated" | "OrderStatusChanged" }>;

export const DIVERGENCE_KINDS = [
  "STALE_EVENT",
  "NEGATIVE_QUANTITY_RESULT",
  "CONFLICTING_SOURCE",
  "STATUS_REGRESSION",
  "POST_DELIVER_UPDATE_IGNORED",
  "CONFLICTING_TERMINAL_STATES",
  "IDEMPOTENCY_CONFLICT",
] as const;
export type DivergenceKind = (typeof DIVERGENCE_KINDS)[number];

/** One event as a divergence names it: who said what, when, and where its raw body is. */
export interface DivergentEvent {
  ingestId: string;
  vendorId: string;
  externalEventId: string;
  eventType: string;
  occurredAt: string;
  /** The event's data, as it said it. */
  said: Record<string, unknown>;
  rawKey: string;
}

/**
 * A valid event that was not applied, or that disagrees with canonical state. It belongs to one
 * event (`ingestId`); pair kinds (CONFLICTING_SOURCE, CONFLICTING_TERMINAL_STATES) belong to the
 * later of the two in fold order and name the other in `related`, so the same pair gives the same
 * divergence whichever arrives last.
 */
export interface Divergence extends DivergentEvent {
  kind: DivergenceKind;
  entity: EntityRef;
  /** The entity's state as consumers saw it before the event that revealed the divergence. */
  stateBefore: Record<string, unknown> | null;
  related?: DivergentEvent;
  /** Why, in a sentence; STALE_EVENT also says BEFORE_SNAPSHOT. */
  reason: string;
}

/**
 * The idempotency key of a divergence: the event, the kind, and for pair kinds the other event (or,
 * for IDEMPOTENCY_CONFLICT, the rejected content's hash). A rerun writes the same entries.
 */
export function divergenceId(divergence: {
  ingestId: string;
  kind: DivergenceKind;
  related?: { ingestId: string };
  qualifier?: string;
}): string {
  return [divergence.ingestId, divergence.kind, divergence.related?.ingestId ?? divergence.qualifier]
    .filter((part) => part !== undefined)
    .join("#");
}

/** What applying one event to one entity gives. */
export interface ApplyOutcome<S> {
  /** The entity after the event; the same object when nothing changed. */
  item: S;
  /** True when the event joined the entity's history: version + 1 and one feed item. */
  changed: boolean;
  divergences: Divergence[];
}

export interface StateRuleOptions {
  /**
   * Inventory: events older than the newest event's occurredAt minus this fold into the base
   * quantity; the entity's log keeps them.
   */
  watermarkMs: number;
  /** Inventory: at most this many events are kept per item; older ones fold into the base. */
  maxEntries: number;
  /**
   * Inventory: and at most this many bytes of them (as DynamoDB counts them), so that events with
   * long ids keep the item under DynamoDB's 400 KB; older ones fold into the base.
   */
  maxFoldBytes: number;
  /** Inventory: two vendors' absolute quantities this close in occurredAt must agree. */
  conflictWindowMs: number;
}

export const DEFAULT_STATE_RULES: StateRuleOptions = {
  watermarkMs: 24 * 60 * 60 * 1000,
  // The window only spares a late event a read of the log, so it is small: the item is rewritten
  // by every event. 128 events of ordinary ids take about 23 KB; of the longest ids, 135 KB.
  maxEntries: 128,
  maxFoldBytes: 32 * 1024,
  conflictWindowMs: 5 * 60 * 1000,
};

export interface ApplyOptions {
  /** Priority of the event's vendor: among events with the same occurredAt the lower number wins (applies last). */
  priority: number;
  rules?: Partial<StateRuleOptions>;
  /**
   * Inventory: the entity's logged events in the range historyNeeded names, in fold order, when it
   * names one (an event that sorts into the base the item keeps instead of its events).
   */
  history?: readonly InventoryEntry[];
}

/** What applying one event did to its entity (applyStateChange, state/apply.ts). */
export interface ApplyStateResult {
  entity: EntityRef;
  /**
   * APPLIED: the event joined the entity's history (new version, one feed entry; it may still carry
   * divergences, e.g. STALE_EVENT before a later snapshot). ALREADY_APPLIED: a replay; nothing written.
   */
  outcome: "APPLIED" | "ALREADY_APPLIED";
  /** The entity's version after this call. */
  version: number;
  divergences: { kind: DivergenceKind; divergenceId: string }[];
  /**
   * The change's feed position, for APPLIED (absent if a later change published it first): 16
   * digits in shard 0, `<shard>:<16 digits>` in another (feed.ts, formatSlot).
   */
  cursor?: string;
  /** APPLIED before the entity's latest applied event in fold order: it arrived out of order. */
  outOfOrder: boolean;
}
