import { FEED_SHARD, formatPosition, type OutboxEntryItem } from "../entities/outbox.ts";
import { BadRequestError, DvssError } from "../errors.ts";
import type { NormalizedDocument } from "../normalized.ts";
import { writeDivergences } from "./divergences.ts";
import { loggedEventOf, writeLoggedEvent } from "./log.ts";
import type { EntityState } from "./rules.ts";
import {
  conditionalWrite,
  divergencesOf,
  moveChangePosition,
  type PendingChange,
  readState,
  type StateEntities,
  stateKeyOf,
  storeCall,
} from "./store.ts";
import type { EntityRef } from "./types.ts";

/*
 * The feed (docs/spec/canonical-state.md, "The feed"). One counter hands out positions; each
 * position is written once, with a change or with a gap. A change's position is taken just before
 * its state write and reserved on the state item, so whoever reads the item can finish writing it.
 * A reader walks positions in order and never passes an empty one: it waits for it, or, once the
 * position is older than a grace period, closes it with a gap. A writer that finds its position
 * closed takes a new one. Hence every change is in the feed exactly once, and no position before a
 * cursor a reader was given can be filled later.
 */

const SEQUENCE_OF = `feed#${FEED_SHARD}`;

/** Readers close an empty position as a gap once it is older than this. */
export const DEFAULT_GAP_GRACE_MS = 5_000;
export const MAX_FEED_LIMIT = 500;
export const DEFAULT_FEED_LIMIT = 100;

export async function takePosition(
  entities: Pick<StateEntities, "outboxSequence">,
  now: Date,
): Promise<string> {
  const { data } = await storeCall("Take a feed position", () =>
    entities.outboxSequence
      .update({ sequenceOf: SEQUENCE_OF })
      .add({ position: 1 })
      .set({ takenAt: now.toISOString() })
      .go({ response: "all_new" }),
  );
  return formatPosition(data.position as number);
}

/** Closes a position that will never hold a change. False if something was written there first. */
export function writeGap(
  entities: Pick<StateEntities, "outboxEntries">,
  position: string,
  now: Date,
): Promise<boolean> {
  return conditionalWrite("Write a feed gap", () =>
    entities.outboxEntries.create({ position, kind: "gap", writtenAt: now.toISOString() }).go(),
  );
}

async function readEntry(entities: Pick<StateEntities, "outboxEntries">, position: string) {
  const { data } = await storeCall("Read a feed position", () =>
    entities.outboxEntries.get({ shard: FEED_SHARD, position }).go({ consistent: true }),
  );
  return data ?? undefined;
}

const isEntryOf = (entry: OutboxEntryItem, change: PendingChange) =>
  entry.kind === "change" &&
  entry.entityType === change.entity.type &&
  entry.entityKey === change.entity.key &&
  entry.version === change.version;

/**
 * Finishes publishing a state item's pending change: its log item and divergences, then its feed entry at the
 * reserved position (moving it to a new position if a reader closed that one). Idempotent: a
 * published change costs one read. Returns the change's position, or undefined when a later version
 * already exists (its writer published this change first).
 */
export async function publishChange(
  entities: StateEntities,
  pending: { state: EntityState; change: PendingChange; changePosition: string },
  now: Date,
): Promise<string | undefined> {
  const { change } = pending;
  // The item holds the state its pending change produced, so this is the state after the change.
  const stateAfter =
    "quantityOnHand" in pending.state ? String(pending.state.quantityOnHand) : pending.state.status;
  const key = stateKeyOf(change.event);
  let position = pending.changePosition;
  for (;;) {
    const entry = await readEntry(entities, position);
    if (entry?.kind === "change") {
      if (isEntryOf(entry, change)) return position;
      throw new DvssError(
        "FEED_INCONSISTENT",
        `Feed position ${position} holds another change than ${change.entity.key} v${change.version}`,
      );
    }
    if (!entry) {
      // The log and divergences first: a change in the feed is in its entity's log and has its
      // divergences recorded, so a published change needs nothing more.
      await writeLoggedEvent(entities, loggedEventOf(change));
      await writeDivergences(entities, await divergencesOf(entities, change), now);
      const written = await conditionalWrite("Write a feed entry", () =>
        entities.outboxEntries
          .create({
            position,
            kind: "change",
            entityType: change.entity.type,
            entityKey: change.entity.key,
            version: change.version,
            ingestId: change.ingestId,
            event: change.event,
            mappingVersion: change.mappingVersion,
            stateAfter,
            appliedAt: change.appliedAt,
            writtenAt: now.toISOString(),
          })
          .go(),
      );
      if (written) return position;
      continue; // someone wrote the position meanwhile: read what it is
    }
    // A reader closed the position: take a new one and move the reservation there.
    const next = await takePosition(entities, now);
    if (await moveChangePosition(entities, key, { version: change.version, position }, next)) {
      position = next;
      continue;
    }
    await writeGap(entities, next, now);
    const current = await readState(entities, key);
    if (!current || current.change.version !== change.version) return undefined;
    position = current.changePosition;
  }
}

export interface FeedItem {
  cursor: string;
  entity: EntityRef;
  version: number;
  event: NormalizedDocument;
}

/** the HTTP API contract, docs/contract, GET /v1/feed. */
export interface FeedPage {
  items: FeedItem[];
  next: string;
}

export interface ReadFeedOptions {
  /** The `next` of an earlier page; absent = from the start. */
  after?: string;
  /** 1..500, default 100. */
  limit?: number;
  now?: Date;
  /** How old an empty position must be before this reader closes it as a gap. */
  gapGraceMs?: number;
}

function parseCursor(after: string): number {
  if (!/^\d{1,16}$/.test(after)) {
    throw new BadRequestError("after must be a cursor returned as next by this feed", {
      details: [{ path: "after", message: "must be a cursor returned as next" }],
    });
  }
  return Number(after);
}

/**
 * The applied changes after `after`, in feed order, at most `limit`. `next` is the cursor to pass
 * next time; with nothing new, `items` is empty and `next` is `after`. May write gaps (see above),
 * so the caller needs write access to the Outbox table.
 */
export async function readFeed(
  entities: Pick<StateEntities, "outboxEntries" | "outboxSequence">,
  options: ReadFeedOptions = {},
): Promise<FeedPage> {
  const limit = options.limit ?? DEFAULT_FEED_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FEED_LIMIT) {
    throw new BadRequestError(`limit must be an integer from 1 to ${MAX_FEED_LIMIT}`, {
      details: [{ path: "limit", message: `must be an integer from 1 to ${MAX_FEED_LIMIT}` }],
    });
  }
  const start = options.after === undefined ? 0 : parseCursor(options.after);
  const now = options.now ?? new Date();
  const oldEnough = (writtenAt: string | undefined) =>
    writtenAt !== undefined &&
    Date.parse(writtenAt) <= now.getTime() - (options.gapGraceMs ?? DEFAULT_GAP_GRACE_MS);

  const { data: sequence } = await storeCall("Read the feed counter", () =>
    entities.outboxSequence.get({ sequenceOf: SEQUENCE_OF }).go({ consistent: true }),
  );
  const head = sequence?.position ?? 0;
  const items: FeedItem[] = [];
  let last = start;
  // Without progress, `next` is the caller's own cursor, byte for byte.
  const page = (): FeedPage => ({
    items,
    next: last === start && options.after !== undefined ? options.after : formatPosition(last),
  });
  while (items.length < limit && last < head) {
    // A few positions beyond the limit, for gaps in between.
    const upper = Math.min(head, last + (limit - items.length) + 32);
    const { data: entries } = await storeCall("Read the feed", () =>
      entities.outboxEntries.query
        .feed({ shard: FEED_SHARD })
        .between({ position: formatPosition(last + 1) }, { position: formatPosition(upper) })
        .go({ consistent: true, pages: "all" }),
    );
    const byPosition = new Map(entries.map((entry) => [Number(entry.position), entry]));
    for (let position = last + 1; position <= upper && items.length < limit; position++) {
      let entry = byPosition.get(position);
      if (!entry) {
        // The position was taken no later than anything taken or written after it.
        const isOld =
          oldEnough(sequence?.takenAt) ||
          entries.some((later) => Number(later.position) > position && oldEnough(later.writtenAt));
        if (!isOld) return page();
        const cursor = formatPosition(position);
        if (!(await writeGap(entities, cursor, now))) entry = await readEntry(entities, cursor);
      }
      if (entry?.kind === "change") {
        items.push({
          cursor: entry.position,
          entity: { type: entry.entityType as EntityRef["type"], key: entry.entityKey as string },
          version: entry.version as number,
          event: entry.event as NormalizedDocument,
        });
      }
      last = position;
    }
  }
  return page();
}
