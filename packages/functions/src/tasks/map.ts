import { normalizedKey } from "@dvss/core/keys";
import { sharedMappingPool } from "@dvss/core/mapping/isolation";
import { mappingEngine, readRawEnvelope } from "../lib/events.ts";
import { taskHandler } from "../lib/task.ts";

// Mappings run in an evaluator process (isolation.ts): start it while the function initializes.
sharedMappingPool().prestart();

/**
 * Runs the vendor's mapping and checks the result against the standard event. Only the outcome
 * travels on (type, version, key): the document itself is rebuilt, identically, where it is written.
 */
export const handler = taskHandler(async (state) => {
  const { mappingVersion } = state.validation as { mappingVersion: string };
  const envelope = await readRawEnvelope(state.rawRef);
  const mapped = await mappingEngine().mapEvent(envelope, mappingVersion);
  return {
    standardEventType: mapped.standardEventType,
    mappingVersion,
    normalizedKey: normalizedKey(mapped.standardEventType, state.ingestId),
  };
});
