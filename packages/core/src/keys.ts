import { ingestDatePath } from "./ids.ts";

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
