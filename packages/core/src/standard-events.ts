import * as v from "valibot";
import { type FieldIssue, MappingError } from "./errors.ts";

/** The version of the standard event formats below (docs/spec/canonical-state.md). */
export const STANDARD_SCHEMA_VERSION = "1.0";

/**
 * The longest text a standard event field may hold (an id: warehouse, sku, order), in characters
 * (UTF-16 code units, as JavaScript and JSON Schema count). Every id is kept on its entity's
 * state item, in the feed and in divergences, several times over: unbounded, one event could make
 * its entity's item larger than DynamoDB's 400 KB (docs/spec/canonical-state.md, "Sizes").
 */
export const MAX_TEXT_LENGTH = 256;
/** The most lines an OrderCreated may have: its lines are kept on the order and in its divergences. */
export const MAX_ORDER_LINES = 100;

// Non-empty, bounded and trimmed (docs/spec/canonical-state.md). One action per rule so each failure says which
// rule it broke; they convert to JSON Schema (minLength, maxLength, pattern).
const text = (description: string) =>
  v.pipe(
    v.string("must be a string"),
    v.nonEmpty("must not be empty"),
    v.maxLength(MAX_TEXT_LENGTH, `must be at most ${MAX_TEXT_LENGTH} characters`),
    v.regex(/^\S(?:[\s\S]*\S)?$/, "must not have leading or trailing whitespace"),
    // Ingest refuses lone surrogates, but a mapping can still cut a pair in two ($substring).
    v.check((value) => value.isWellFormed(), "must be well-formed Unicode (no lone surrogates)"),
    v.description(description),
  );

/**
 * Integers a double holds exactly (|n| ≤ 2^53−1): beyond that `9007199254740993` is silently
 * `9007199254740992`, sums are wrong, and the state store refuses the number. Refused here, at the
 * Map stage, as MAPPING_FAILED naming the field: no retry or redrive could store it.
 */
const integer = (message: string) =>
  v.pipe(
    v.number("must be a number"),
    v.integer(message),
    v.safeInteger(`must be between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`),
  );

/** The unit an inventory quantity counts in when the event names none: each. */
export const DEFAULT_UNIT = "EA";

/** An inventory quantity's unit: a short code such as EA (each) or CS (case). */
const unit = (description: string) =>
  v.optional(
    v.pipe(
      v.string("must be a string"),
      v.regex(/^[A-Za-z0-9_.-]{1,16}$/, "must be 1 to 16 letters, digits, '_', '.' or '-'"),
      v.description(description),
    ),
  );

export const ORDER_STATUSES = ["ACKED", "PICKED", "SHIPPED", "DELIVERED", "CANCELED"] as const;

export const InventoryUpdatedSchema = v.strictObject({
  warehouseId: text("The warehouse the quantity is for."),
  sku: text("The stock-keeping unit."),
  quantityOnHand: v.pipe(
    integer("must be an integer"),
    v.minValue(0, "must be 0 or more"),
    v.description("The whole current quantity (absolute, not a change)."),
  ),
  unit: unit("The unit the quantity counts in; absent: EA (each)."),
});

export const InventoryAdjustedSchema = v.strictObject({
  warehouseId: text("The warehouse the change is for."),
  sku: text("The stock-keeping unit."),
  quantityDelta: v.pipe(
    integer("must be an integer"),
    v.notValue(0, "must not be 0"),
    v.description("The change to apply: positive adds, negative removes."),
  ),
  unit: unit("The unit the change counts in; absent: EA (each)."),
});

export const OrderLineSchema = v.strictObject({
  sku: text("The stock-keeping unit."),
  quantity: v.pipe(integer("must be an integer"), v.minValue(1, "must be 1 or more")),
});

export const OrderCreatedSchema = v.strictObject({
  orderId: text("The order, as the vendor identifies it."),
  lines: v.pipe(
    v.array(OrderLineSchema, "must be an array"),
    v.minLength(1, "must have at least one line"),
    v.maxLength(MAX_ORDER_LINES, `must have at most ${MAX_ORDER_LINES} lines`),
    v.description("The ordered lines."),
  ),
  warehouseId: v.optional(text("The warehouse that fulfils the order, if the vendor says.")),
});

export const OrderStatusChangedSchema = v.strictObject({
  orderId: text("The order, as the vendor identifies it."),
  status: v.pipe(
    v.picklist(ORDER_STATUSES, `must be one of ${ORDER_STATUSES.join(" ")}`),
    v.description("The order's new status."),
  ),
});

/** The data schema of each standard event type: the one place the types below come from. */
export const StandardEventSchemas = {
  InventoryUpdated: InventoryUpdatedSchema,
  InventoryAdjusted: InventoryAdjustedSchema,
  OrderCreated: OrderCreatedSchema,
  OrderStatusChanged: OrderStatusChangedSchema,
} as const;

export type StandardEventType = keyof typeof StandardEventSchemas;
export const STANDARD_EVENT_TYPES = Object.keys(StandardEventSchemas) as StandardEventType[];

export type InventoryUpdated = v.InferOutput<typeof InventoryUpdatedSchema>;
export type InventoryAdjusted = v.InferOutput<typeof InventoryAdjustedSchema>;
export type OrderLine = v.InferOutput<typeof OrderLineSchema>;
export type OrderCreated = v.InferOutput<typeof OrderCreatedSchema>;
export type OrderStatusChanged = v.InferOutput<typeof OrderStatusChangedSchema>;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export type StandardEventData<T extends StandardEventType = StandardEventType> = v.InferOutput<
  (typeof StandardEventSchemas)[T]
>;

/** A standard event type with its data, discriminated on eventType. */
export type StandardEvent = {
  [T in StandardEventType]: { eventType: T; data: StandardEventData<T> };
}[StandardEventType];

export function isStandardEventType(value: unknown): value is StandardEventType {
  return typeof value === "string" && Object.hasOwn(StandardEventSchemas, value);
}

function issueDetail(issue: v.BaseIssue<unknown>): FieldIssue {
  const keys = (issue.path ?? []).map((item) => String(item.key));
  const path = ["data", ...keys].join(".");
  if (issue.type !== "strict_object") return { path, message: issue.message };
  // valibot reports three different things as a strict_object issue; say which one it is.
  if (keys.length === 0) return { path, message: "must be an object" };
  if (issue.expected === "never") return { path, message: "unknown field" };
  if (issue.received === "undefined") return { path, message: "is required" };
  return { path, message: "must be an object" };
}

/**
 * Checks a mapping's output against the standard event of that type. Returns the data rebuilt in
 * the schema's key order, so the normalized document does not depend on the mapping's key order.
 */
export function validateStandardEvent(eventType: unknown, data: unknown): StandardEvent {
  if (!isStandardEventType(eventType)) {
    throw new MappingError(`Unknown standard event type ${JSON.stringify(eventType)}`, {
      details: [{ path: "eventType", message: `must be one of ${STANDARD_EVENT_TYPES.join(" ")}` }],
    });
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new MappingError(`Invalid ${eventType} data: data must be an object`, {
      details: [{ path: "data", message: "must be an object" }],
    });
  }
  // One message per field: the first rule it breaks.
  const result = v.safeParse(StandardEventSchemas[eventType], data, { abortPipeEarly: true });
  if (!result.success) {
    const details = result.issues.map(issueDetail);
    throw new MappingError(
      `Invalid ${eventType} data: ${details.map((d) => `${d.path} ${d.message}`).join("; ")}`,
      { details },
    );
  }
  return { eventType, data: result.output } as StandardEvent;
}
