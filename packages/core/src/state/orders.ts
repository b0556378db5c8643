import { rawKey } from "../keys.ts";
import type { OrderLine, OrderStatus } from "../standard-events.ts";
import { type FoldPosition, foldPositionOf, insertSorted } from "./fold-position.ts";
import {
  type ApplyOptions,
  type ApplyOutcome,
  type Divergence,
  type DivergenceKind,
  type DivergentEvent,
  divergenceId,
  type EntityRef,
  type OrderDocument,
} from "./types.ts";
import { saidBy, type VendorKeyRef, vendorKeyOf, withVendorKey } from "./vendor-keys.ts";

export const CANONICAL_ORDER_STATUSES = [
  "CREATED",
  "ACKED",
  "PICKED",
  "SHIPPED",
  "DELIVERED",
  "CANCELED",
] as const;
export type CanonicalOrderStatus = (typeof CANONICAL_ORDER_STATUSES)[number];

// CANCELED is not ranked: it applies from any status, and nothing but itself follows it.
const RANK: Record<Exclude<CanonicalOrderStatus, "CANCELED">, number> = {
  CREATED: 0,
  ACKED: 1,
  PICKED: 2,
  SHIPPED: 3,
  DELIVERED: 4,
};

/** One remembered order event: an OrderCreated (lines) or an OrderStatusChanged (status). */
export type OrderEntry = { key: FoldPosition; ingestId: string; occurredAt: string } & (
  | { type: "created"; lines: OrderLine[]; warehouseId?: string }
  | { type: "status"; status: OrderStatus }
);

/** Orders have few events: the item keeps them all, in fold order, and recomputes. */
export interface OrderFold {
  events: OrderEntry[];
}

/** the HTTP API contract, docs/contract, GET /v1/state/orders/{orderId}. */
export interface OrderView {
  orderId: string;
  status: CanonicalOrderStatus;
  lines: OrderLine[];
  warehouseId?: string;
  asOf: string;
  version: number;
  lastIngestId: string;
  sourceVendorId: string;
  /** The vendor order ids the crosswalk mapped to this order (vendor-keys.ts); absent when none. */
  vendorKeys?: VendorKeyRef[];
}

export interface OrderState extends OrderView {
  fold: OrderFold;
}

export function orderView(state: OrderView): OrderView {
  const { orderId, status, lines, warehouseId, asOf, version, lastIngestId, sourceVendorId, vendorKeys } =
    state;
  return {
    orderId,
    status,
    lines,
    ...(warehouseId !== undefined && { warehouseId }),
    asOf,
    version,
    lastIngestId,
    sourceVendorId,
    ...(vendorKeys !== undefined && { vendorKeys }),
  };
}

function describe(entry: OrderEntry, orderId: string): DivergentEvent {
  return {
    ingestId: entry.ingestId,
    vendorId: entry.key.vendorId,
    externalEventId: entry.key.externalEventId,
    eventType: entry.type === "created" ? "OrderCreated" : "OrderStatusChanged",
    occurredAt: entry.occurredAt,
    said:
      entry.type === "created"
        ? {
            orderId,
            lines: entry.lines,
            ...(entry.warehouseId !== undefined && { warehouseId: entry.warehouseId }),
          }
        : { orderId, status: entry.status },
    rawKey: rawKey(entry.key.vendorId, entry.ingestId),
  };
}

interface Finding {
  kind: DivergenceKind;
  entry: OrderEntry;
  related?: OrderEntry;
  reason: string;
}

interface OrderFoldResult {
  status: CanonicalOrderStatus;
  lines: OrderLine[];
  warehouseId?: string;
  /** The last event in fold order that changed something: asOf, lastIngestId, sourceVendorId. */
  last: OrderEntry;
  findings: Finding[];
}

/**
 * The order rules of docs/spec/canonical-state.md over events in fold order. OrderCreated gives the lines (the last
 * one in fold order wins) and CREATED if there is no status yet; a status of higher rank applies;
 * lower is STATUS_REGRESSION, equal is skipped silently; CANCELED applies from any status (over
 * DELIVERED it is CONFLICTING_TERMINAL_STATES); once DELIVERED anything else is
 * POST_DELIVER_UPDATE_IGNORED; once CANCELED a DELIVERED is CONFLICTING_TERMINAL_STATES and any
 * other status STATUS_REGRESSION, so an order with both terminal states ends CANCELED.
 */
function foldOrder(events: readonly OrderEntry[]): OrderFoldResult {
  let status: CanonicalOrderStatus | undefined;
  let lines: OrderLine[] = [];
  let warehouseId: string | undefined;
  let last: OrderEntry | undefined;
  const terminal: Partial<Record<"DELIVERED" | "CANCELED", OrderEntry>> = {};
  const findings: Finding[] = [];

  for (const entry of events) {
    if (entry.type === "created") {
      lines = entry.lines;
      warehouseId = entry.warehouseId;
      status ??= "CREATED";
      last = entry;
      continue;
    }
    const next = entry.status;
    let skip: Omit<Finding, "entry"> | "silent" | undefined;
    if (status === "CANCELED") {
      if (next === "CANCELED") skip = "silent";
      else if (next === "DELIVERED") {
        skip = {
          kind: "CONFLICTING_TERMINAL_STATES",
          related: terminal.CANCELED,
          reason: "DELIVERED after CANCELED",
        };
      } else skip = { kind: "STATUS_REGRESSION", reason: `${next} after CANCELED` };
    } else if (status === "DELIVERED") {
      if (next === "CANCELED") {
        findings.push({
          kind: "CONFLICTING_TERMINAL_STATES",
          entry,
          related: terminal.DELIVERED,
          reason: "CANCELED after DELIVERED",
        });
      } else if (next === "DELIVERED") skip = "silent";
      else skip = { kind: "POST_DELIVER_UPDATE_IGNORED", reason: `${next} after DELIVERED` };
    } else if (status !== undefined && next !== "CANCELED" && RANK[next] <= RANK[status]) {
      skip =
        RANK[next] === RANK[status]
          ? "silent"
          : { kind: "STATUS_REGRESSION", reason: `${next} after ${status}` };
    }

    if (skip === undefined) {
      status = next;
      if (next === "DELIVERED" || next === "CANCELED") terminal[next] = entry;
      last = entry;
    } else if (skip !== "silent") {
      findings.push({ ...skip, entry });
    }
  }
  if (status === undefined || last === undefined) throw new Error("An order fold needs at least one event");
  return { status, lines, ...(warehouseId !== undefined && { warehouseId }), last, findings };
}

/**
 * Applies one order event (docs/spec/canonical-state.md). Pure. A new event always joins the order's history
 * (version + 1), even when the rules skip its status; the state is recomputed from all events.
 * Divergences reported are those of the new fold that the previous fold did not have: a late event
 * can reveal a divergence on another event (e.g. make a stored status a regression).
 */
export function applyOrderEvent(
  state: OrderState | undefined,
  doc: OrderDocument,
  options: ApplyOptions,
): ApplyOutcome<OrderState> {
  const { orderId } = doc.data;
  if (state && state.orderId !== orderId) {
    throw new Error(`Event ${doc.ingestId} is for order ${orderId}, not ${state.orderId}`);
  }
  if (state?.fold.events.some((entry) => entry.ingestId === doc.ingestId)) {
    return { item: state, changed: false, divergences: [] };
  }

  const common = {
    key: foldPositionOf(doc, options.priority),
    ingestId: doc.ingestId,
    occurredAt: doc.occurredAt,
  };
  const entry: OrderEntry =
    doc.eventType === "OrderCreated"
      ? {
          ...common,
          type: "created",
          lines: doc.data.lines,
          ...(doc.data.warehouseId !== undefined && { warehouseId: doc.data.warehouseId }),
        }
      : { ...common, type: "status", status: doc.data.status };
  const { list: events } = insertSorted(state?.fold.events ?? [], entry);
  const vendorKeys = withVendorKey(state?.vendorKeys, vendorKeyOf(doc, ["orderId"]));

  const entity: EntityRef = { type: "order", key: orderId };
  const stateBefore = state ? { ...orderView(state) } : null;
  const said = saidBy(doc);
  const describeEntry = (e: OrderEntry) =>
    e === entry
      ? { ...describe(e, orderId), rawKey: doc.rawRef.key, ...(said && { said }) }
      : describe(e, orderId);
  const known = new Set(state ? foldOrder(state.fold.events).findings.map(findingId) : []);
  const result = foldOrder(events);
  const divergences: Divergence[] = result.findings
    .filter((finding) => !known.has(findingId(finding)))
    .map((finding) => ({
      kind: finding.kind,
      entity,
      ...describeEntry(finding.entry),
      stateBefore,
      reason: finding.reason,
      ...(finding.related && { related: describeEntry(finding.related) }),
    }));

  return {
    item: {
      orderId,
      status: result.status,
      lines: result.lines,
      ...(result.warehouseId !== undefined && { warehouseId: result.warehouseId }),
      asOf: result.last.occurredAt,
      version: (state?.version ?? 0) + 1,
      lastIngestId: result.last.ingestId,
      sourceVendorId: result.last.key.vendorId,
      ...(vendorKeys && { vendorKeys }),
      fold: { events },
    },
    changed: true,
    divergences,
  };
}

function findingId(finding: Finding): string {
  return divergenceId({
    ingestId: finding.entry.ingestId,
    kind: finding.kind,
    ...(finding.related && { related: finding.related }),
  });
}
