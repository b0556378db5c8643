import { getEntities } from "./runtime.ts";

const TTL_MS = 30_000;
const priorities = new Map<string, { priority: number; expiresAt: number }>();

/** A vendor's priority (docs/spec/canonical-state.md tie-break), cached briefly: it changes rarely and is read per event. */
export async function vendorPriority(vendorId: string, now = Date.now()): Promise<number> {
  const cached = priorities.get(vendorId);
  if (cached && cached.expiresAt > now) return cached.priority;
  const { data } = await getEntities().vendors.get({ vendorId }).go();
  // A vendor without a profile sorts after every known one rather than failing its events.
  const priority = data?.priority ?? Number.MAX_SAFE_INTEGER;
  priorities.set(vendorId, { priority, expiresAt: now + TTL_MS });
  return priority;
}
