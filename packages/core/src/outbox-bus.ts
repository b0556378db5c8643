import * as v from "valibot";
import { STANDARD_EVENT_TYPES } from "./standard-events.ts";

/**
 * What the outbox pipe (infra/events.ts) takes from the Outbox table's stream and what it puts on
 * the bus: an EventBridge Pipes filter and input template over the stream record, whose NewImage
 * is the written item in DynamoDB JSON (`{"position": {"S": "..."}, "version": {"N": "3"}}`).
 *
 * The stream carries every insert into the table: feed entries that are changes, but also gaps
 * (positions closed without a change) and the feed counter's first write. Only changes go out.
 *
 * The bus event (source "dvss", detail type "dvss.state.changed") is the feed item without the
 * event's data: the feed position, the entity, its new version, who sent the event and when, and
 * the entity's state after the change. The data stays in the feed (GET /v1/feed): a pipe's input
 * template can only copy the stream record's values, and the data is a DynamoDB-typed map there,
 * not the JSON the feed serves.
 */

/** Stream records the pipe forwards: inserts of feed entries of kind "change". */
export const OUTBOX_PIPE_FILTER = {
  eventName: ["INSERT"],
  dynamodb: { NewImage: { kind: { S: ["change"] } } },
} as const;

/** Attributes every change entry has (outboxEntryEntity), by DynamoDB type, that the bus event reads. */
const newImage = (attribute: string) => `<$.dynamodb.NewImage.${attribute}>`;

/**
 * The bus event's detail, field by field: each value a path into the record. It is the feed item
 * (GET /v1/feed: cursor, entity, version, event) with the event reduced to who sent what and when,
 * plus the entity's state after the change. Every path is an attribute every change entry has, so
 * no event depends on how EventBridge renders a missing one. Numbers come as DynamoDB streams
 * carry them: decimal strings.
 */
export const OUTBOX_BUS_DETAIL = {
  /**
   * The change's position within its shard: its `cursor` in GET /v1/feed only with one feed shard
   * (with more, a feed cursor holds a position per shard, docs/spec/canonical-state.md).
   */
  cursor: newImage("position.S"),
  entity: { type: newImage("entityType.S"), key: newImage("entityKey.S") },
  /** The entity's version after the change, as a decimal string. */
  version: newImage("version.N"),
  /** The normalized event of the change, without its data (read it from the feed). */
  event: {
    ingestId: newImage("ingestId.S"),
    vendorId: newImage("event.M.vendorId.S"),
    externalEventId: newImage("event.M.externalEventId.S"),
    /** The standard event type (InventoryUpdated, OrderStatusChanged, ...). */
    eventType: newImage("event.M.eventType.S"),
    occurredAt: newImage("event.M.occurredAt.S"),
  },
  /** The entity after the change: an inventory's quantityOnHand (decimal string), an order's status. */
  state: newImage("stateAfter.S"),
} as const;

/** The pipe's input template: OUTBOX_BUS_DETAIL as JSON, each path quoted (all are strings). */
export function outboxBusTemplate(): string {
  return JSON.stringify(OUTBOX_BUS_DETAIL);
}

/** Where the bus events go: source and detail type on the stage's OutboxBus. */
export const OUTBOX_BUS_EVENT = { source: "dvss", detailType: "dvss.state.changed" } as const;

const text = (description: string) => v.pipe(v.string(), v.description(description));

/** The detail of a dvss.state.changed event, as published in schemas/bus/ (`npm run schemas`). */
export const StateChangedDetailSchema = v.strictObject({
  cursor: text(
    "The change's position within its entity's feed shard (16 digits). With one feed shard (every stage today) it is also its GET /v1/feed cursor, which can be passed as `after`; with more shards it is not a feed cursor.",
  ),
  entity: v.strictObject({
    type: v.picklist(["inventory", "order"]),
    key: text("inventory: <warehouseId>#<sku>, order: <orderId> (docs/contract, entity keys)."),
  }),
  version: v.pipe(
    v.string(),
    v.regex(/^[1-9][0-9]*$/),
    v.description(
      "The entity's version after the change, a decimal string: deduplicate by (entity, version).",
    ),
  ),
  event: v.strictObject({
    ingestId: v.pipe(v.string(), v.regex(/^[0-9A-HJKMNP-TV-Z]{26}$/), v.description("ULID given at ingest.")),
    vendorId: text("The vendor that sent the event."),
    externalEventId: text("The vendor's own id of the event."),
    eventType: v.picklist(STANDARD_EVENT_TYPES),
    occurredAt: text("As the vendor sent it in the envelope."),
  }),
  state: v.pipe(
    v.string(),
    v.description(
      "The entity after the change: an inventory's quantityOnHand (a decimal string), an order's status.",
    ),
  ),
});

/**
 * A dvss.state.changed event as an EventBridge rule's target receives it: EventBridge's own fields
 * (id, time, account, region, resources) around the pipe's source, detail type and detail.
 */
export const StateChangedEventSchema = v.object({
  version: v.literal("0"),
  id: v.string(),
  "detail-type": v.literal(OUTBOX_BUS_EVENT.detailType),
  source: v.literal(OUTBOX_BUS_EVENT.source),
  account: v.string(),
  time: v.string(),
  region: v.string(),
  resources: v.array(v.string()),
  detail: StateChangedDetailSchema,
});
