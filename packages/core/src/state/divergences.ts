import { composeKey } from "../keys.ts";
import { conditionalWrite, type StateEntities } from "./store.ts";
import { type Divergence, divergenceId } from "./types.ts";

/**
 * Writes divergences once each: keyed by divergenceId and created only if absent, so a rerun of the
 * same event (or a helper finishing its publication) adds nothing and keeps the first detectedAt.
 */
export async function writeDivergences(
  entities: Pick<StateEntities, "divergences">,
  divergences: readonly Divergence[],
  now: Date,
): Promise<void> {
  await Promise.all(
    divergences.map((divergence) =>
      conditionalWrite("Write divergence", () =>
        entities.divergences.create(divergenceItem(divergence, now)).go(),
      ),
    ),
  );
}

/** The Divergence table's item of a divergence (its size is bounded by state/item-size.ts). */
export function divergenceItem(divergence: Divergence, detectedAt: Date) {
  return {
    entityType: divergence.entity.type,
    entityKey: divergence.entity.key,
    divergenceId: divergenceId(divergence),
    kind: divergence.kind,
    ingestId: divergence.ingestId,
    vendorId: divergence.vendorId,
    externalEventId: divergence.externalEventId,
    eventType: divergence.eventType,
    occurredAt: divergence.occurredAt,
    rawKey: divergence.rawKey,
    said: divergence.said,
    stateBefore: divergence.stateBefore,
    ...(divergence.related && { related: divergence.related }),
    reason: divergence.reason,
    detectedAt: detectedAt.toISOString(),
  };
}

export interface IdempotencyConflict {
  vendorId: string;
  externalEventId: string;
  /** The ingestId of the event first accepted under this key. */
  ingestId: string;
  /** contentHash of the accepted event and of the rejected one. */
  existingSha256: string;
  incomingSha256: string;
  /** The accepted event's raw key, where its content can be read. */
  rawKey?: string;
  /** What the rejected attempt said, when the caller has it. */
  eventType?: string;
  occurredAt?: string;
  now?: Date;
}

/**
 * Records IDEMPOTENCY_CONFLICT: a vendor reused an externalEventId for different content (the
 * ingest API answers 409). One entry per (original event, rejected content): a vendor retrying the
 * same conflicting request adds nothing. Returns its divergenceId.
 */
export async function recordIdempotencyConflict(
  entities: Pick<StateEntities, "divergences">,
  conflict: IdempotencyConflict,
): Promise<string> {
  const id = divergenceId({
    ingestId: conflict.ingestId,
    kind: "IDEMPOTENCY_CONFLICT",
    qualifier: conflict.incomingSha256,
  });
  await conditionalWrite("Write divergence", () =>
    entities.divergences
      .create({
        entityType: "ingest",
        entityKey: composeKey(conflict.vendorId, conflict.externalEventId),
        divergenceId: id,
        kind: "IDEMPOTENCY_CONFLICT",
        ingestId: conflict.ingestId,
        vendorId: conflict.vendorId,
        externalEventId: conflict.externalEventId,
        ...(conflict.eventType !== undefined && { eventType: conflict.eventType }),
        ...(conflict.occurredAt !== undefined && { occurredAt: conflict.occurredAt }),
        ...(conflict.rawKey !== undefined && { rawKey: conflict.rawKey }),
        said: {
          existingSha256: conflict.existingSha256,
          incomingSha256: conflict.incomingSha256,
          ...(conflict.eventType !== undefined && { eventType: conflict.eventType }),
          ...(conflict.occurredAt !== undefined && { occurredAt: conflict.occurredAt }),
        },
        stateBefore: null,
        reason: "The vendor sent different content under an externalEventId it had already used",
        detectedAt: (conflict.now ?? new Date()).toISOString(),
      })
      .go(),
  );
  return id;
}
