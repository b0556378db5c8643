import { lookupIn, matchEvent } from "@dvss/core/crosswalk";
import { UnmatchedIdentifierError } from "@dvss/core/errors";
import { crosswalkCache, vendorMatching } from "../lib/crosswalk.ts";
import { normalizedDocumentOf } from "../lib/objects.ts";
import { taskHandler } from "../lib/task.ts";

/**
 * Resolves each identifier of the normalized event to its canonical id through the vendor's
 * crosswalk, under the vendor's `match` policy (docs/spec/canonical-state.md, "Matching"). The
 * normalized document is left as the vendor said it; ApplyState folds it under the ids returned.
 * The workflow runs it only when Map found something to match (lib/crosswalk.ts vendorMatching); for
 * an execution that runs it all the same, a vendor without entries and without a required kind
 * reads nothing: every identifier is its own canonical id.
 */
export const handler = taskHandler("Match", async (state) => {
  const { policy, cached, needed } = await vendorMatching(state.vendorId);
  if (!needed) return { matched: [] };
  const document = await normalizedDocumentOf(state.normalized);
  try {
    return matchEvent(document, policy, lookupIn(cached.table));
  } catch (error) {
    if (!(error instanceof UnmatchedIdentifierError)) throw error;
    // Before quarantining, the table as it is now: the entry may have been added since it was read.
    const fresh = await crosswalkCache().get(state.vendorId, { fresh: true });
    return matchEvent(document, policy, lookupIn(fresh.table));
  }
});
