import { ingestDatePath } from "./ids.ts";

/**
 * One component of a composed key, escaped so that no two lists of components compose to the same
 * key whatever the ids contain: `%` becomes `%25` and `#` (the separator) `%23`. An id with neither
 * stays as it is.
 */
export function keyPart(value: string): string {
  return value.replaceAll("%", "%25").replaceAll("#", "%23");
}

/** Components joined by `#`, each escaped (keyPart): ("W", "x#y") and ("W#x", "y") stay two keys. */
export function composeKey(...parts: string[]): string {
  return parts.map(keyPart).join("#");
}

/** Where the raw body lives: `raw/<vendorId>/YYYY/MM/DD/<ingestId>.json`. */
export function rawKey(vendorId: string, ingestId: string): string {
  return `raw/${vendorId}/${ingestDatePath(ingestId)}/${ingestId}.json`;
}

/** Where the standard event lives: `normalized/<eventType>/YYYY/MM/DD/<ingestId>.json`. */
export function normalizedKey(standardEventType: string, ingestId: string): string {
  return `normalized/${standardEventType}/${ingestDatePath(ingestId)}/${ingestId}.json`;
}

/** The raw-archive prefix of one vendor's day, so a replay window is a handful of prefix listings. */
export function rawDayPrefix(vendorId: string, day: Date): string {
  return `raw/${vendorId}/${day.toISOString().slice(0, 10).replaceAll("-", "/")}/`;
}

export interface ObjectRef {
  bucket: string;
  key: string;
}
