import type { NormalizedDocument } from "../normalized.ts";

/**
 * A normalized document as ApplyState folds it (core/crosswalk.ts, canonicalDocument): `data` under
 * canonical ids and units, and what the vendor said beside it when the crosswalk changed anything.
 */
export type CanonicalDocument = NormalizedDocument & { vendorData?: Record<string, unknown> };

/**
 * A vendor's own keys for an entity, named as the entity's ids: `{vendorId, warehouseId, sku}` or
 * `{vendorId, orderId}`. Kept on the entity only for keys the crosswalk mapped: a vendor matched by
 * identity feeds the entity under its canonical ids.
 */
export type VendorKeyRef = { vendorId: string } & Record<string, string>;

/** At most this many vendor keys are listed on one entity (the item stays small); the first in key order are kept. */
export const MAX_VENDOR_KEYS = 16;

const order = (ref: VendorKeyRef) => JSON.stringify(Object.entries(ref).sort());

/** The vendor keys of `doc` for its entity, when the crosswalk mapped any of them. */
export function vendorKeyOf(doc: NormalizedDocument, idFields: readonly string[]): VendorKeyRef | undefined {
  const said = (doc as CanonicalDocument).vendorData;
  if (!said) return undefined;
  const canonical = doc.data as Record<string, unknown>;
  if (idFields.every((field) => said[field] === canonical[field])) return undefined;
  return Object.fromEntries([
    ["vendorId", doc.vendorId],
    ...idFields.map((field) => [field, said[field] as string]),
  ]) as VendorKeyRef;
}

/**
 * `known` with `added`, once, in a fixed order (by content), at most MAX_VENDOR_KEYS: the same
 * set of events gives the same list in any arrival order.
 */
export function withVendorKey(
  known: readonly VendorKeyRef[] | undefined,
  added: VendorKeyRef | undefined,
): VendorKeyRef[] | undefined {
  if (!added) return known ? [...known] : undefined;
  const all = new Map((known ?? []).map((ref) => [order(ref), ref]));
  all.set(order(added), added);
  return [...all.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, MAX_VENDOR_KEYS)
    .map(([, ref]) => ref);
}

/** What a divergence says the arriving event said: the vendor's own data when the crosswalk changed it. */
export const saidBy = (doc: NormalizedDocument): Record<string, unknown> | undefined =>
  (doc as CanonicalDocument).vendorData;
