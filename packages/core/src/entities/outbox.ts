import { Entity, type EntityConfiguration, type EntityItem } from "electrodb";

/** The feed's first shard, the only one with one shard (state/feed.ts, `shardOf`): a shard's entries share its partition key. */
export const FEED_SHARD = "0";

/** Positions are zero-padded so the sort key orders them as numbers. */
export const POSITION_DIGITS = 16;

export function formatPosition(position: number): string {
  return String(position).padStart(POSITION_DIGITS, "0");
}

/**
 * One position of the feed: either an applied change (entity, its new version, the normalized
 * event) or a gap, a position that was taken but will never hold a change. Written once, never
 * changed; readers page by position (docs/spec/canonical-state.md, "The feed"). No index: the
 * entry of an event is read at the position its entity's log item records (state/feed.ts
 * readLoggedEntry).
 */
export const outboxEntryEntity = (config: EntityConfiguration) =>
  new Entity(
    {
      model: { entity: "outboxEntry", version: "1", service: "dvss" },
      attributes: {
        shard: { type: "string", required: true, readOnly: true, default: FEED_SHARD },
        position: { type: "string", required: true, readOnly: true },
        kind: { type: ["change", "gap"] as const, required: true, readOnly: true },
        entityType: { type: ["inventory", "order"] as const, readOnly: true },
        entityKey: { type: "string", readOnly: true },
        version: { type: "number", readOnly: true },
        ingestId: { type: "string", readOnly: true },
        /** The normalized document of the change (docs/spec/canonical-state.md), as the feed returns it. */
        event: { type: "any", readOnly: true },
        mappingVersion: { type: "string", readOnly: true },
        /**
         * The entity after the change, in one string every change has: an inventory's
         * quantityOnHand in decimal, an order's status. The outbox pipe announces it on the bus.
         */
        stateAfter: { type: "string", readOnly: true },
        appliedAt: { type: "string", readOnly: true },
        /** When this position was written: readers use it to tell an old gap from a write in flight. */
        writtenAt: { type: "string", required: true, readOnly: true },
      },
      indexes: {
        feed: {
          pk: { field: "pk", composite: ["shard"], casing: "none" },
          sk: { field: "sk", composite: ["position"], casing: "none" },
        },
      },
    },
    config,
  );

export type OutboxEntryItem = EntityItem<ReturnType<typeof outboxEntryEntity>>;

/**
 * A feed shard's counter (`feed#<shard>`): the last position taken in it and when. Its own partition
 * key, so taking a position and writing one do not share a partition's throughput.
 */
export const outboxSequenceEntity = (config: EntityConfiguration) =>
  new Entity(
    {
      model: { entity: "outboxSequence", version: "1", service: "dvss" },
      attributes: {
        sequenceOf: { type: "string", required: true, readOnly: true },
        position: { type: "number", required: true },
        takenAt: { type: "string", required: true },
      },
      indexes: {
        sequence: {
          pk: { field: "pk", composite: ["sequenceOf"], casing: "none" },
          sk: { field: "sk", composite: [], casing: "none" },
        },
      },
    },
    config,
  );

export type OutboxSequenceItem = EntityItem<ReturnType<typeof outboxSequenceEntity>>;
