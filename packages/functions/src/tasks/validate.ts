import { mappingEngine, readRawEnvelope } from "../lib/events.ts";
import { taskHandler } from "../lib/task.ts";

/** Checks the raw payload against the vendor's schema for its event type and version; picks the mapping version. */
export const handler = taskHandler(async (state) => {
  const envelope = await readRawEnvelope(state.rawRef);
  const { mappingVersion } = await mappingEngine().validatePayload(envelope);
  return { mappingVersion, vendorEventType: envelope.eventType };
});
