import { formatPosition } from "../entities/outbox.ts";
import { WriteContentionError } from "../errors.ts";
import type { NormalizedDocument } from "../normalized.ts";
import { feedShards, publishChange, shardOf, takePosition, writeGap } from "./feed.ts";
import { compareFoldPositions, type FoldPosition, foldPositionOf } from "./fold-position.ts";
import { historyNeeded, type InventoryState } from "./inventory.ts";
import { inventoryEntryOf, readLog } from "./log.ts";
import { applyEvent, type EntityState, entityOf, isInventoryDocument } from "./rules.ts";
import {
  assertStateFits,
  placeDivergences,
  readState,
  type StateEntities,
  stateKeyOf,
  writeDivergenceChunks,
  writeState,
} from "./store.ts";
import {
  type ApplyOptions,
  type ApplyOutcome,
  type ApplyStateResult,
  type DivergenceKind,
  divergenceId,
  type StateRuleOptions,
} from "./types.ts";

export { recordIdempotencyConflict } from "./divergences.ts";

/**
 * Re-reads after a lost compare-and-swap before handing the wait to the workflow's contention
 * retrier with WriteContentionError. Short and in-process first: most losses are won back within
 * a few milliseconds; a long wait is cheaper in the state machine than in a running function.
 */
export const DEFAULT_MAX_ATTEMPTS = 8;
/** Backoff between in-process attempts: full jitter over base·2^attempt, capped. */
const BACKOFF_BASE_MS = 4;
const BACKOFF_CAP_MS = 250;

/** Full-jitter exponential backoff: losers of one race spread out instead of colliding again. */
const backoff = (attempt: number) =>
  new Promise((resolve) =>
    setTimeout(resolve, Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt)),
  );

export interface ApplyStateOptions {
  /** Priority of the event's vendor: at the same occurredAt the lower number is preferred (applied last, wins). */
  vendorPriority: number;
  /** The mapping version that produced the document, carried into the feed entry. */
  mappingVersion: string;
  now?: Date;
  maxAttempts?: number;
  rules?: Partial<StateRuleOptions>;
  /** The stage's feed shard count (the entity's changes go to one of them); default feedShards(). */
  feedShards?: number;
}

/**
 * Applies the rules to one document over the entity's state, reading the entity's log first when
 * the document is an inventory event that sorts into the item's base (a late event): the logged
 * events it must be folded with there. The one way a document is folded, by ApplyState and by what
 * it is predicted to do (ops/what-if.ts).
 */
export async function foldWithLog(
  entities: Pick<StateEntities, "entityEvents">,
  state: EntityState | undefined,
  doc: NormalizedDocument,
  rules: Omit<ApplyOptions, "history">,
): Promise<ApplyOutcome<EntityState>> {
  const needed = isInventoryDocument(doc)
    ? historyNeeded(state as InventoryState | undefined, doc, rules)
    : undefined;
  const history = needed
    ? (
        await readLog(entities, entityOf(doc), needed, (read) => needed.enough(read.map(inventoryEntryOf)))
      ).map(inventoryEntryOf)
    : undefined;
  return applyEvent(state, doc, { ...rules, ...(history && { history }) });
}

/** The fold position of the entity's latest applied event: its last kept event, else the base's. */
function latestKey(state: EntityState | undefined): FoldPosition | undefined {
  if (!state) return undefined;
  return "entries" in state.fold
    ? (state.fold.entries.at(-1)?.key ?? state.fold.base.through)
    : state.fold.events.at(-1)?.key;
}

/**
 * Applies one normalized event to canonical state (docs/spec/canonical-state.md).
 *
 * Read the item; finish publishing its previous change if a crash left it unpublished (its feed
 * entry is read unless this process published it or saw it published); read the entity's log if
 * the event sorts into the item's base (a late event); apply the rules; take a feed position;
 * write the item with a compare-and-swap on `version`; publish (the log item and divergences, then
 * the feed entry, written without reading the position just taken). A lost compare-and-swap closes its position as a gap,
 * waits (full-jitter backoff), re-reads and re-applies, at most `maxAttempts` times, then throws
 * WriteContentionError, which the workflow retries (never a reason to quarantine). Every
 * step is idempotent, so running the same event again after a crash anywhere completes what is
 * missing and adds nothing else.
 */
export async function applyStateChange(
  entities: StateEntities,
  doc: NormalizedDocument,
  options: ApplyStateOptions,
): Promise<ApplyStateResult> {
  const now = options.now ?? new Date();
  const entity = entityOf(doc);
  const key = stateKeyOf(doc);
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const summary = (
    divergences: { kind: DivergenceKind; ingestId: string; related?: { ingestId: string } }[],
  ) => divergences.map((divergence) => ({ kind: divergence.kind, divergenceId: divergenceId(divergence) }));

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const stored = await readState(entities, key);
    // The previous change goes into the feed before this one can take a position after it.
    if (stored) await publishChange(entities, stored, now);

    const outcome = await foldWithLog(entities, stored?.state, doc, {
      priority: options.vendorPriority,
      rules: options.rules,
    });
    if (!outcome.changed) {
      return {
        entity,
        outcome: "ALREADY_APPLIED",
        version: stored?.state.version ?? 0,
        divergences: [],
        outOfOrder: false,
      };
    }

    // Divergences too large for the item go to chunks first; an item too large is refused
    // before a position is taken or anything is written (store.ts, "Sizes").
    const { change, chunks } = placeDivergences({
      entity,
      version: outcome.item.version,
      ingestId: doc.ingestId,
      event: doc,
      mappingVersion: options.mappingVersion,
      priority: options.vendorPriority,
      appliedAt: now.toISOString(),
      divergences: outcome.divergences,
    });
    assertStateFits({ state: outcome.item, change, changePosition: formatPosition(0) }, now);
    await writeDivergenceChunks(entities, change, chunks, now);

    const position = await takePosition(entities, now, shardOf(entity, options.feedShards ?? feedShards()));
    const next = { state: outcome.item, change, changePosition: position };
    if (!(await writeState(entities, key, next, stored?.state.version, now))) {
      await writeGap(entities, position, now);
      if (attempt < maxAttempts) await backoff(attempt);
      continue;
    }
    // Its position was taken just now, so the entry is written without reading the position first.
    const cursor = await publishChange(entities, next, now, { reserved: true });
    const latest = latestKey(stored?.state);
    return {
      entity,
      outcome: "APPLIED",
      version: change.version,
      divergences: summary(outcome.divergences),
      outOfOrder:
        latest !== undefined && compareFoldPositions(foldPositionOf(doc, options.vendorPriority), latest) < 0,
      ...(cursor !== undefined && { cursor }),
    };
  }
  throw new WriteContentionError(
    `Canonical ${entity.type} ${entity.key}: the compare-and-swap lost ${maxAttempts} times in a row for event ${doc.ingestId}`,
    { details: [{ path: "entity", message: `${entity.type} ${entity.key}` }] },
  );
}
