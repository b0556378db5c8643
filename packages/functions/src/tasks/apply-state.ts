import { assertMatchCurrent, canonicalDocument } from "@dvss/core/crosswalk";
import { applyStateChange } from "@dvss/core/state/apply";
import { entityOf } from "@dvss/core/state/rules";
import { getEntities, logger } from "../lib/aws.ts";
import { crosswalkCache } from "../lib/crosswalk.ts";
import { emitMetric } from "../lib/metrics.ts";
import { normalizedDocumentOf } from "../lib/objects.ts";
import { recordNormalized } from "../lib/outcome.ts";
import { inStage, taskHandler } from "../lib/task.ts";
import { inTurn } from "../lib/turns.ts";
import { vendorPriority } from "../lib/vendors.ts";

/**
 * Folds the normalized event, under the canonical ids Match resolved, into canonical state,
 * records its divergences and appends the change to the outbox, then marks the event's record
 * NORMALIZED (lib/outcome.ts; a failure there is quarantined as stage UpdateStatus). Folds the
 * document Map's result carries, or reads it from the normalized bucket when the state has only
 * its reference (lib/objects.ts normalizedDocumentOf); a rerun or replay of the same ingestId
 * changes nothing in the state (ALREADY_APPLIED) and marks the record again. An entry Match used
 * that has changed since is AMBIGUOUS_MATCH.
 */
export const handler = taskHandler("ApplyState", async (state) => {
  const { mappingVersion } = state.normalized;
  const said = await normalizedDocumentOf(state.normalized);
  // Without a match (NeedsMatch skipped Match, or an execution from before it) every id is its own.
  const match = state.match ?? { matched: [] };
  if (match.matched.length > 0) {
    assertMatchCurrent(state.vendorId, match, (await crosswalkCache().get(state.vendorId)).table);
  }
  const document = canonicalDocument(said, match);
  const priority = await vendorPriority(state.vendorId);
  const entity = entityOf(document);
  const result = await inTurn(`${entity.type}:${entity.key}`, () =>
    applyStateChange(getEntities(), document, { vendorPriority: priority, mappingVersion }),
  );
  if (result.divergences.length > 0) {
    logger.info("divergence", { kinds: result.divergences.map((divergence) => divergence.kind) });
    for (const { kind } of result.divergences) emitMetric("divergenceCount", { kind });
  }
  const applied = {
    outcome: result.outcome,
    entity: result.entity,
    version: result.version,
    divergences: result.divergences.map((divergence) => divergence.kind),
    outOfOrder: result.outOfOrder,
  };
  await inStage("UpdateStatus", () => recordNormalized(state, applied));
  return applied;
});
