import { formatPosition, type OutboxEntryItem } from "../entities/outbox.ts";
import { BadRequestError, DvssError } from "../errors.ts";
import { sha256Hex } from "../hash.ts";
import { LruMap } from "../lru.ts";
import type { NormalizedDocument } from "../normalized.ts";
import { writeDivergences } from "./divergences.ts";
import { type LoggedEvent, loggedEventOf, writeLoggedEvent } from "./log.ts";
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
 * The feed (docs/spec/canonical-state.md, "The feed"). It has N shards; an entity's changes all go
 * to one shard (a stable hash of the entity), and each shard is a sequence of its own: one counter
 * hands out its positions; each position is written once, with a change or with a gap. A change's
 * position is taken just before its state write and reserved on the state item, so whoever reads
 * the item can finish writing it. A reader walks each shard's positions in order and never passes
 * an empty one: it waits for it, or, once the position is older than a grace period, closes it with
 * a gap. A writer that finds its position closed takes a new one in the same shard. Hence every
 * change is in the feed exactly once, and no position before a cursor (a position per shard) a
 * reader was given can be filled later.
 */

/** The most shards a stage may have. */
export const MAX_FEED_SHARDS = 64;
/** Environment variable holding a stage's shard count (stacks/settings.ts `feedShards`); 1 when unset. */
export const FEED_SHARDS_ENV = "DVSS_FEED_SHARDS";

/** The shard count of this process. A value that is not 1..MAX_FEED_SHARDS is a deployment error. */
export function feedShards(env: Record<string, string | undefined> = process.env): number {
  const text = env[FEED_SHARDS_ENV]?.trim();
  if (!text) return 1;
  const shards = Number(text);
  if (!/^\d+$/.test(text) || shards < 1 || shards > MAX_FEED_SHARDS) {
    throw new Error(`${FEED_SHARDS_ENV} must be an integer from 1 to ${MAX_FEED_SHARDS}, not "${text}"`);
  }
  return shards;
}

/** The shard of an entity: the first 32 bits of SHA-256 of `<type>#<key>`, modulo the shard count. */
export function shardOf(entity: EntityRef, shards: number): number {
  if (shards === 1) return 0;
  return Number.parseInt(sha256Hex(`${entity.type}#${entity.key}`).slice(0, 8), 16) % shards;
}

const sequenceOf = (shard: number) => `feed#${shard}`;

/** A position in one shard. */
interface Slot {
  shard: number;
  position: number;
}

/**
 * How a reserved position is written on a state item: 16 digits in shard 0 (as before shards
 * existed, so items written then still read), `<shard>:<16 digits>` in another.
 */
export function formatSlot({ shard, position }: Slot): string {
  return shard === 0 ? formatPosition(position) : `${shard}:${formatPosition(position)}`;
}

function parseSlot(text: string): Slot {
  const match = /^(?:([1-9]\d?):)?(\d{16})$/.exec(text);
  if (!match) throw new DvssError("FEED_INCONSISTENT", `${text} is not a feed position`);
  return { shard: Number(match[1] ?? 0), position: Number(match[2]) };
}

/** Readers close an empty position as a gap once it is older than this. */
export const DEFAULT_GAP_GRACE_MS = 5_000;
export const MAX_FEED_LIMIT = 500;
export const DEFAULT_FEED_LIMIT = 100;

/** Takes the next position of a shard (0 by default), as formatSlot writes it. */
export async function takePosition(
  entities: Pick<StateEntities, "outboxSequence">,
  now: Date,
  shard = 0,
): Promise<string> {
  const { data } = await storeCall("Take a feed position", () =>
    entities.outboxSequence
      .update({ sequenceOf: sequenceOf(shard) })
      .add({ position: 1 })
      .set({ takenAt: now.toISOString() })
      .go({ response: "all_new" }),
  );
  return formatSlot({ shard, position: data.position as number });
}

/** Closes a position that will never hold a change. False if something was written there first. */
export function writeGap(
  entities: Pick<StateEntities, "outboxEntries">,
  slot: string,
  now: Date,
): Promise<boolean> {
  const { shard, position } = parseSlot(slot);
  return conditionalWrite("Write a feed gap", () =>
    entities.outboxEntries
      .create({
        shard: String(shard),
        position: formatPosition(position),
        kind: "gap",
        writtenAt: now.toISOString(),
      })
      .go(),
  );
}

async function readEntry(entities: Pick<StateEntities, "outboxEntries">, slot: string) {
  const { shard, position } = parseSlot(slot);
  const { data } = await storeCall("Read a feed position", () =>
    entities.outboxEntries
      .get({ shard: String(shard), position: formatPosition(position) })
      .go({ consistent: true }),
  );
  return data ?? undefined;
}

/**
 * The feed entry of a logged event's change: one GetItem at the position its log item records.
 * The one way to find the entry of an event: the Outbox has no index by ingestId, which would copy
 * every entry (~1.2 KB with its event) for the local console alone; the log item, written just
 * before the entry (and again when the change moves), knows where it is. Undefined when the item
 * records no position (logged before positions were recorded), or when nothing but this event's
 * change is written there yet: never another position's entry.
 */
export async function readLoggedEntry(
  entities: Pick<StateEntities, "outboxEntries">,
  logged: Pick<LoggedEvent, "feedPosition" | "ingestId">,
): Promise<OutboxEntryItem | undefined> {
  if (logged.feedPosition === undefined) return undefined;
  const entry = await readEntry(entities, logged.feedPosition);
  return entry?.kind === "change" && entry.ingestId === logged.ingestId ? entry : undefined;
}

const isEntryOf = (entry: OutboxEntryItem, change: PendingChange) =>
  entry.kind === "change" &&
  entry.entityType === change.entity.type &&
  entry.entityKey === change.entity.key &&
  entry.version === change.version;

/*
 * The changes this process has published or seen published, so that the next change to an entity
 * does not read its previous change's feed entry again (one consistent read per event). Safe
 * because a position written with a change keeps it for ever: entries are written once, never
 * changed (every attribute is readOnly), and the Outbox table has no TTL and nothing deletes from
 * it. Keyed by entity, as only an entity's latest change is ever asked about (it is the one on its
 * item), holding that change's shard, position, version and event: a hit needs all of them to be
 * equal, so a different change at the same position, the same change moved elsewhere, or another
 * store's change that happens to sit at the same position (a process that opens a fresh store,
 * as tests do) never matches.
 * Bounded, as a warm container applies events for any number of entities: 10,000 entities of
 * ~150 bytes each, about 1.5 MB. What it does not hold is read, as before.
 */
export const PUBLISHED_CHANGES_KEPT = 10_000;
const published = new LruMap<string, string>(PUBLISHED_CHANGES_KEPT);
const entityKey = (change: PendingChange) => `${change.entity.type}#${change.entity.key}`;
const changeAt = (change: PendingChange, position: string) => {
  const slot = parseSlot(position);
  return `${slot.shard}:${slot.position}:v${change.version}:${change.ingestId}`;
};
const remember = (change: PendingChange, position: string) =>
  published.set(entityKey(change), changeAt(change, position));
const isRemembered = (change: PendingChange, position: string) =>
  published.get(entityKey(change)) === changeAt(change, position);

/** Forgets every change this process published, as a process that never saw them would (tests). */
export function forgetPublishedChanges(): void {
  published.clear();
}

export interface PublishOptions {
  /**
   * The writer has just reserved the change's position itself (applyStateChange, after its state
   * write): it writes the entry without reading the position first, and reads only when the
   * conditional write fails (a reader closed the position, or another writer finished the change).
   */
  reserved?: boolean;
}

/**
 * Finishes publishing a state item's pending change: its log item (with the position) and
 * divergences, then its feed entry at the reserved position (moving it to a new position if a
 * reader closed that one, and logging it again with that one).
 * Idempotent: a change this process published or saw published costs nothing, another published
 * change one read. Returns the change's position, or undefined when a later version already exists
 * (its writer published this change first).
 */
export async function publishChange(
  entities: StateEntities,
  pending: { state: EntityState; change: PendingChange; changePosition: string },
  now: Date,
  options: PublishOptions = {},
): Promise<string | undefined> {
  const { change } = pending;
  if (!options.reserved && isRemembered(change, pending.changePosition)) return pending.changePosition;
  // The item holds the state its pending change produced, so this is the state after the change.
  const stateAfter =
    "quantityOnHand" in pending.state ? String(pending.state.quantityOnHand) : pending.state.status;
  const key = stateKeyOf(change.event);
  let position = pending.changePosition;
  // A position this writer has just taken: nobody but a reader's gap can be there yet, and the
  // conditional write below finds that out as well as a read would.
  let reserved = options.reserved === true;
  // The position this call last wrote into the change's log item (none yet).
  let loggedAt: string | undefined;
  const logAt = (at: string) => writeLoggedEvent(entities, { ...loggedEventOf(change), feedPosition: at });
  for (;;) {
    const entry = reserved ? undefined : await readEntry(entities, position);
    if (entry?.kind === "change") {
      if (!isEntryOf(entry, change)) {
        throw new DvssError(
          "FEED_INCONSISTENT",
          `Feed position ${position} holds another change than ${change.entity.key} v${change.version}`,
        );
      }
      // Another writer published it at a later position while this one logged a position since
      // closed (and possibly after that writer logged its own): the log item says where it is.
      if (loggedAt !== undefined && loggedAt !== position) await logAt(position);
      remember(change, position);
      return position;
    }
    if (!entry) {
      // The log and divergences first: a change in the feed is in its entity's log, at the
      // position its entry is written at, and has its divergences recorded, so a published change
      // needs nothing more. Both are idempotent (a put of what the change fixes, creates that keep
      // the first), so they are written before knowing whether someone else already published the
      // change. A change moved to a new position is logged again, with that one, before its entry
      // is written there.
      if (loggedAt !== position) {
        await logAt(position);
        if (loggedAt === undefined)
          await writeDivergences(entities, await divergencesOf(entities, change), now);
        loggedAt = position;
      }
      const written = await conditionalWrite("Write a feed entry", () =>
        entities.outboxEntries
          .create({
            shard: String(parseSlot(position).shard),
            position: formatPosition(parseSlot(position).position),
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
      if (written) {
        remember(change, position);
        return position;
      }
      reserved = false;
      continue; // someone wrote the position meanwhile: read what it is
    }
    // A reader closed the position: take a new one in the same shard, which keeps the entity's
    // earlier changes before it, and move the reservation there.
    const next = await takePosition(entities, now, parseSlot(position).shard);
    if (await moveChangePosition(entities, key, { version: change.version, position }, next)) {
      position = next;
      reserved = true;
      continue;
    }
    await writeGap(entities, next, now);
    const current = await readState(entities, key);
    if (!current || current.change.version !== change.version) return undefined;
    position = current.changePosition;
  }
}

export interface FeedItem {
  /** The cursor just after this item: pass it as `after` to read on from here. */
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
  /** The `next` (or an item's `cursor`) of an earlier page; absent = from the start. */
  after?: string;
  /** 1..500, default 100. */
  limit?: number;
  now?: Date;
  /** How old an empty position must be before this reader closes it as a gap. */
  gapGraceMs?: number;
  /** The stage's shard count; default feedShards(). */
  shards?: number;
}

const badCursor = () =>
  new BadRequestError("after must be a cursor returned as next by this feed", {
    details: [{ path: "after", message: "must be a cursor returned as next" }],
  });

/**
 * A cursor is a position per shard. With one shard it is that position in 16 digits (the format
 * from before shards, so such cursors stay valid); with more, the positions in shard order joined
 * by "." and base64url-encoded.
 */
export function formatCursor(positions: readonly number[]): string {
  if (positions.length === 1) return formatPosition(positions[0] ?? 0);
  return Buffer.from(positions.join("."), "latin1").toString("base64url");
}

/** The positions of a cursor; BadRequestError naming `after` for anything formatCursor does not write. */
export function parseCursor(after: string): number[] {
  if (/^\d{1,16}$/.test(after)) return [Number(after)];
  if (!/^[A-Za-z0-9_-]{1,1600}$/.test(after)) throw badCursor();
  const parts = Buffer.from(after, "base64url").toString("latin1").split(".");
  if (parts.length < 2 || parts.length > MAX_FEED_SHARDS || !parts.every((part) => /^\d{1,16}$/.test(part))) {
    throw badCursor();
  }
  const positions = parts.map(Number);
  // Only the canonical spelling: no leading zeros, no padding, no trailing bits.
  if (formatCursor(positions) !== after) throw badCursor();
  return positions;
}

/** One position a reader passed in a shard: a change, or a gap (no entry). */
interface Step {
  position: number;
  change?: OutboxEntryItem;
}

/**
 * Walks one shard from `start` (exclusive): the positions it may pass, in order, up to `limit`
 * changes. Stops at an empty position younger than the grace period; closes an older one with a gap.
 */
async function walkShard(
  entities: Pick<StateEntities, "outboxEntries" | "outboxSequence">,
  shard: number,
  start: number,
  limit: number,
  now: Date,
  gapGraceMs: number,
): Promise<Step[]> {
  const oldEnough = (writtenAt: string | undefined) =>
    writtenAt !== undefined && Date.parse(writtenAt) <= now.getTime() - gapGraceMs;
  const { data: sequence } = await storeCall("Read the feed counter", () =>
    entities.outboxSequence.get({ sequenceOf: sequenceOf(shard) }).go({ consistent: true }),
  );
  const head = sequence?.position ?? 0;
  const steps: Step[] = [];
  let changes = 0;
  let last = start;
  while (changes < limit && last < head) {
    // A few positions beyond the limit, for gaps in between (as many as wanted, at most 32).
    const wanted = limit - changes;
    const upper = Math.min(head, last + wanted + Math.min(32, wanted));
    const { data: entries } = await storeCall("Read the feed", () =>
      entities.outboxEntries.query
        .feed({ shard: String(shard) })
        .between({ position: formatPosition(last + 1) }, { position: formatPosition(upper) })
        .go({ consistent: true, pages: "all" }),
    );
    const byPosition = new Map(entries.map((entry) => [Number(entry.position), entry]));
    for (let position = last + 1; position <= upper && changes < limit; position++) {
      let entry = byPosition.get(position);
      if (!entry) {
        // The position was taken no later than anything taken or written after it.
        const isOld =
          oldEnough(sequence?.takenAt) ||
          entries.some((later) => Number(later.position) > position && oldEnough(later.writtenAt));
        if (!isOld) return steps;
        const slot = formatSlot({ shard, position });
        if (!(await writeGap(entities, slot, now))) entry = await readEntry(entities, slot);
      }
      if (entry?.kind === "change") {
        steps.push({ position, change: entry });
        changes++;
      } else steps.push({ position });
      last = position;
    }
  }
  return steps;
}

/**
 * The applied changes after `after`, at most `limit` (at most limit/N from each of N shards): each
 * shard's in its order, the shards merged by when their entries were written. `next` is the cursor to pass next time; with nothing new,
 * `items` is empty and `next` is `after`. May write gaps (see above), so the caller needs write
 * access to the Outbox table. A cursor with fewer positions than shards (one written before the
 * shard count was raised) reads the others from their start.
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
  const start = options.after === undefined ? [] : parseCursor(options.after);
  const shards = Math.max(options.shards ?? feedShards(), start.length);
  const positions = Array.from({ length: shards }, (_, shard) => start[shard] ?? 0);
  const now = options.now ?? new Date();
  const gapGraceMs = options.gapGraceMs ?? DEFAULT_GAP_GRACE_MS;
  // Each shard's share of the page: reading `limit` from every shard would read N pages for one.
  const share = Math.ceil(limit / shards);
  const walks = await Promise.all(
    positions.map((from, shard) => walkShard(entities, shard, from, share, now, gapGraceMs)),
  );

  // Merge: the earliest written change at the head of any shard next. Each item's cursor is the
  // positions reached so far, so resuming from it returns exactly what follows it here.
  const items: FeedItem[] = [];
  const taken = walks.map(() => 0);
  const changesOf = walks.map((steps) => steps.filter((step) => step.change));
  while (items.length < limit) {
    let pick: number | undefined;
    for (let shard = 0; shard < shards; shard++) {
      const candidate = changesOf[shard]?.[taken[shard] ?? 0]?.change;
      const best = pick === undefined ? undefined : changesOf[pick]?.[taken[pick] ?? 0]?.change;
      if (candidate && (!best || candidate.writtenAt < best.writtenAt)) pick = shard;
    }
    if (pick === undefined) break;
    const step = changesOf[pick]?.[taken[pick] ?? 0] as Required<Step>;
    taken[pick] = (taken[pick] ?? 0) + 1;
    positions[pick] = step.position;
    const entry = step.change;
    items.push({
      cursor: formatCursor(positions),
      entity: { type: entry.entityType as EntityRef["type"], key: entry.entityKey as string },
      version: entry.version as number,
      event: entry.event as NormalizedDocument,
    });
  }
  // A shard whose changes all went out also passes the gaps after them.
  walks.forEach((steps, shard) => {
    if (taken[shard] === changesOf[shard]?.length && steps.length > 0) {
      positions[shard] = steps[steps.length - 1]?.position ?? 0;
    }
  });
  const moved = positions.some((position, shard) => position !== (start[shard] ?? 0));
  // Without progress, `next` is the caller's own cursor, byte for byte.
  return { items, next: !moved && options.after !== undefined ? options.after : formatCursor(positions) };
}
