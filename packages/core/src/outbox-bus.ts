/**
 * What the outbox pipe (infra/events.ts) takes from the Outbox table's stream and what it puts on
 * the bus: an EventBridge Pipes filter and input template over the stream record, whose NewImage
 * is the written item in DynamoDB JSON (`{"position": {"S": "..."}, "version": {"N": "3"}}`).
 *
 * The stream carries every insert into the table: feed entries that are changes, but also gaps
 * (positions closed without a change) and the feed counter's first write. Only changes go out.
 *
 * The bus event is a notification, not a copy of the feed: the feed position, the entity, its new
 * version, the event's ingestId and type, and the entity's state after the change. The normalized
 * document stays in the feed (GET /v1/feed): a document can be far larger than the 256 KB
 * EventBridge takes per entry, and an entry the bus refuses would be retried, then dead-lettered.
 */

/** Stream records the pipe forwards: inserts of feed entries of kind "change". */
export const OUTBOX_PIPE_FILTER = {
  eventName: ["INSERT"],
  dynamodb: { NewImage: { kind: { S: ["change"] } } },
} as const;

/** Attributes every change entry has (outboxEntryEntity), by DynamoDB type, that the bus event reads. */
const newImage = (attribute: string) => `<$.dynamodb.NewImage.${attribute}>`;

/**
 * The bus event's detail, field by field: each value a path into the record. Every path is an
 * attribute every change entry has, so no event depends on how EventBridge renders a missing one.
 * Numbers come as DynamoDB streams carry them: decimal strings.
 */
export const OUTBOX_BUS_DETAIL = {
  /** The change's feed position: its `cursor` in GET /v1/feed. */
  cursor: newImage("position.S"),
  entity: { type: newImage("entityType.S"), key: newImage("entityKey.S") },
  /** The entity's version after the change, as a decimal string. */
  version: newImage("version.N"),
  ingestId: newImage("ingestId.S"),
  /** The standard event type of the change (InventoryUpdated, OrderStatusChanged, ...). */
  eventType: newImage("event.M.eventType.S"),
  /** The entity after the change: an inventory's quantityOnHand (decimal string), an order's status. */
  state: newImage("stateAfter.S"),
} as const;

/** The pipe's input template: OUTBOX_BUS_DETAIL as JSON, each path quoted (all are strings). */
export function outboxBusTemplate(): string {
  return JSON.stringify(OUTBOX_BUS_DETAIL);
}

/** Where the bus events go: source and detail type on the stage's OutboxBus. */
export const OUTBOX_BUS_EVENT = { source: "dvss.outbox", detailType: "dvss.change.applied" } as const;
