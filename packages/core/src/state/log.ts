import type { EntityEventItem } from "../entities/entity-event.ts";
import type { NormalizedDocument } from "../normalized.ts";
import { STANDARD_SCHEMA_VERSION } from "../standard-events.ts";
import { compareFoldPositions, type FoldPosition, instantOf } from "./fold-position.ts";
import {
  conditionalWrite,
  type PendingChange,
  type StateEntities,
  type StoredState,
  storeCall,
} from "./store.ts";
import type { EntityRef, InventoryEntry } from "./types.ts";

/*
 * The event log of each entity (docs/spec/canonical-state.md, "The event log"): every event
 * applied to it, one item each, sorted by instant. The state item keeps only a recent window of
 * its fold; the log keeps the rest, so a late event is folded in its place, and the state as of
 * any time and its explanation are folds of the log.
 */

/** One logged event: where it sits in the fold, what it said, and where it came from. */
export interface LoggedEvent {
  entity: EntityRef;
  key: FoldPosition;
  ingestId: string;
  occurredAt: string;
  eventType: NormalizedDocument["eventType"];
  data: NormalizedDocument["data"];
  mappingVersion: string;
  rawKey: string;
  /** The entity's version when the event joined its history. */
  version: number;
  appliedAt: string;
  /**
   * The feed position its change is published at, as formatSlot writes it (state/feed.ts): absent
   * on a change not logged yet, and on items logged before positions were recorded.
   */
  feedPosition?: string;
}

type LogEntities = Pick<StateEntities, "entityEvents">;

/** The log item of a change (the change is the state item's pending change, written with the state). */
export function loggedEventOf(change: PendingChange): LoggedEvent {
  const { event } = change;
  return {
    entity: change.entity,
    key: {
      at: instantOf(event.occurredAt),
      priority: change.priority,
      externalEventId: event.externalEventId,
      vendorId: event.vendorId,
    },
    ingestId: event.ingestId,
    occurredAt: event.occurredAt,
    eventType: event.eventType,
    data: event.data,
    mappingVersion: change.mappingVersion,
    rawKey: event.rawRef.key,
    version: change.version,
    appliedAt: change.appliedAt,
  };
}

/**
 * Writes a change's log item. A put of a key the change fixes: a rerun (after a crash, or by
 * whoever publishes the change) writes the same item again, but never with an earlier feed
 * position than the item holds.
 */
export async function writeLoggedEvent(entities: LogEntities, logged: LoggedEvent): Promise<void> {
  const { feedPosition } = logged;
  const put = () =>
    entities.entityEvents.put({
      entityType: logged.entity.type,
      entityKey: logged.entity.key,
      at: logged.key.at,
      ingestId: logged.ingestId,
      vendorId: logged.key.vendorId,
      externalEventId: logged.key.externalEventId,
      occurredAt: logged.occurredAt,
      priority: logged.key.priority,
      eventType: logged.eventType,
      data: logged.data,
      mappingVersion: logged.mappingVersion,
      rawKey: logged.rawKey,
      version: logged.version,
      appliedAt: logged.appliedAt,
      ...(feedPosition !== undefined && { feedPosition }),
    });
  if (feedPosition === undefined) {
    await storeCall("Write the entity's event log", () => put().go());
    return;
  }
  // A change only moves forward in its shard (a closed position is replaced by a newly taken, later
  // one), so the log keeps the latest position written: a writer's late put of a position since
  // closed must not overwrite the one its change moved to. Same-shard positions compare as text.
  await conditionalWrite("Write the entity's event log", () =>
    put()
      .where(
        (attributes, { notExists, lte }) =>
          `${notExists(attributes.feedPosition)} OR ${lte(attributes.feedPosition, feedPosition)}`,
      )
      .go(),
  );
}

function fromItem(item: EntityEventItem): LoggedEvent {
  return {
    entity: { type: item.entityType, key: item.entityKey },
    key: {
      at: item.at,
      priority: item.priority,
      externalEventId: item.externalEventId,
      vendorId: item.vendorId,
    },
    ingestId: item.ingestId,
    occurredAt: item.occurredAt,
    eventType: item.eventType as LoggedEvent["eventType"],
    data: item.data as LoggedEvent["data"],
    mappingVersion: item.mappingVersion,
    rawKey: item.rawKey,
    version: item.version,
    appliedAt: item.appliedAt,
    ...(item.feedPosition !== undefined && { feedPosition: item.feedPosition }),
  };
}

/**
 * The log item of one event of an entity, by its key (one GetItem): the event's occurredAt as its
 * instant, and its ingestId. Undefined while the event is not logged.
 */
export async function readLoggedEvent(
  entities: LogEntities,
  entity: EntityRef,
  occurredAt: string,
  ingestId: string,
): Promise<LoggedEvent | undefined> {
  const { data } = await storeCall("Read the entity's event log", () =>
    entities.entityEvents
      .get({ entityType: entity.type, entityKey: entity.key, at: instantOf(occurredAt), ingestId })
      .go({ consistent: true }),
  );
  return data ? fromItem(data) : undefined;
}

/** Fold order, then ingestId (as insertSorted). */
export const compareLogged = (
  a: { key: FoldPosition; ingestId: string },
  b: { key: FoldPosition; ingestId: string },
) => compareFoldPositions(a.key, b.key) || (a.ingestId < b.ingestId ? -1 : a.ingestId > b.ingestId ? 1 : 0);

/** Log items per page when reading from a position: a late event's fold often stops early. */
const PAGE_SIZE = 200;

/**
 * The entity's logged events with an instant in [from, through] (either end open when absent), in
 * fold order, page by page until `enough` says the events read so far (in instant order) suffice.
 * Strongly consistent: a fold reads what the last change wrote.
 */
export async function readLog(
  entities: LogEntities,
  entity: EntityRef,
  range: { from?: string; through?: string } = {},
  enough: (read: readonly LoggedEvent[]) => boolean = () => false,
): Promise<LoggedEvent[]> {
  const events: LoggedEvent[] = [];
  let cursor: string | null = null;
  do {
    const query = entities.entityEvents.query.byEntity({ entityType: entity.type, entityKey: entity.key });
    // `~` sorts after the `#` that follows an instant in the sort key: every ingestId of `through`.
    const bounded =
      range.from !== undefined && range.through !== undefined
        ? query.between({ at: range.from }, { at: `${range.through}~` })
        : range.from !== undefined
          ? query.gte({ at: range.from })
          : range.through !== undefined
            ? query.lt({ at: `${range.through}~` })
            : query;
    const page: { data: EntityEventItem[]; cursor: string | null } = await storeCall(
      "Read the entity's event log",
      () => bounded.go({ consistent: true, cursor, limit: PAGE_SIZE, pages: 1 }),
    );
    events.push(...page.data.map(fromItem));
    cursor = page.cursor;
  } while (cursor !== null && !enough(events));
  return events.sort(compareLogged);
}

/** A logged inventory event as the fold keeps it. */
export function inventoryEntryOf(logged: LoggedEvent): InventoryEntry {
  const data = logged.data as { quantityOnHand?: number; quantityDelta?: number };
  return logged.eventType === "InventoryUpdated"
    ? {
        key: logged.key,
        ingestId: logged.ingestId,
        occurredAt: logged.occurredAt,
        op: "set",
        value: data.quantityOnHand as number,
      }
    : {
        key: logged.key,
        ingestId: logged.ingestId,
        occurredAt: logged.occurredAt,
        op: "add",
        value: data.quantityDelta as number,
      };
}

/** A logged event as the normalized document it was applied from (the raw bucket is not logged). */
export function documentOf(logged: LoggedEvent): NormalizedDocument {
  return {
    ingestId: logged.ingestId,
    vendorId: logged.key.vendorId,
    externalEventId: logged.key.externalEventId,
    eventType: logged.eventType,
    schemaVersion: STANDARD_SCHEMA_VERSION,
    occurredAt: logged.occurredAt,
    data: logged.data,
    rawRef: { bucket: "", key: logged.rawKey },
  } as NormalizedDocument;
}

/**
 * The entity's logged events up to the instant `through` (all when absent), in fold order, with
 * the state item's pending change: a crash between the state write and the log write leaves it
 * only there until the change is published (at the position the item reserves for it).
 */
export async function entityHistory(
  entities: LogEntities,
  entity: EntityRef,
  stored: Pick<StoredState, "change" | "changePosition"> | undefined,
  through?: string,
): Promise<LoggedEvent[]> {
  const events = await readLog(entities, entity, through === undefined ? {} : { through });
  const pending = stored?.change;
  if (stored && pending && !events.some((event) => event.ingestId === pending.ingestId)) {
    const logged = { ...loggedEventOf(pending), feedPosition: stored.changePosition };
    if (through === undefined || logged.key.at <= through) events.push(logged);
  }
  return events.sort(compareLogged);
}
