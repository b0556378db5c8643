import { LruMap } from "@dvss/core/lru";
import { getEntities } from "./aws.ts";

const TTL_MS = 30_000;
/** Vendors whose priority a container keeps; past it the least recently read is dropped. */
export const MAX_CACHED_VENDORS = 1_000;
const priorities = new LruMap<string, { priority: number; expiresAt: number }>(MAX_CACHED_VENDORS);

/**
 * A vendor's priority (docs/spec/canonical-state.md tie-break), cached for 30 s: it changes rarely
 * and is read per event. Bounded, so a container that sees many vendors does not grow without end.
 */
export async function vendorPriority(vendorId: string, now = Date.now()): Promise<number> {
  const cached = priorities.get(vendorId);
  if (cached && cached.expiresAt > now) return cached.priority;
  const { data } = await getEntities().vendors.get({ vendorId }).go();
  // A vendor without a profile sorts after every known one rather than failing its events.
  const priority = data?.priority ?? Number.MAX_SAFE_INTEGER;
  priorities.set(vendorId, { priority, expiresAt: now + TTL_MS });
  return priority;
}
