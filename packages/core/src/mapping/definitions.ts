import * as v from "valibot";
import { VendorMatchPolicySchema } from "../crosswalk.ts";
import { UnknownSchemaVersionError, VendorDefinitionError } from "../errors.ts";

/** Same character rules as the envelope's eventType and schemaVersion, so every folder is addressable. */
export const EVENT_TYPE_PATTERN = /^[a-z0-9._-]{1,64}$/;
export const VERSION_PATTERN = /^[A-Za-z0-9._-]{1,32}$/;

/** `vendor.json` (docs/spec/mappings.md), plus the optional choice of active version per event type. */
export const VendorProfileSchema = v.strictObject({
  vendorId: v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,64}$/)),
  name: v.pipe(v.string(), v.nonEmpty()),
  priority: v.pipe(v.number(), v.integer()),
  rateLimitPerSecond: v.pipe(v.number(), v.safeInteger(), v.minValue(1, "must be at least 1")),
  activeVersions: v.optional(
    v.record(v.pipe(v.string(), v.regex(EVENT_TYPE_PATTERN)), v.pipe(v.string(), v.regex(VERSION_PATTERN))),
  ),
  /** Per kind of identifier, `identity` (default) or `required` (core/crosswalk.ts). */
  match: v.optional(VendorMatchPolicySchema),
});

export type VendorProfile = v.InferOutput<typeof VendorProfileSchema>;

/** What selection needs to know about a vendor: its profile and the versions of each event type. */
export interface VendorDefinition {
  profile: VendorProfile;
  /** Vendor event type → its versions (any order). */
  versions: Record<string, string[]>;
}

/** One version of one vendor event type: immutable once published, so it is compiled once. */
export interface MappingVersionDefinition {
  vendorId: string;
  eventType: string;
  version: string;
  payloadSchema: Record<string, unknown>;
  /** JSONata source; its input is the whole envelope, its output `{eventType, data}`. */
  mapping: string;
}

/**
 * Where vendor definitions come from: the `schemas/vendors` folder now, published mapping
 * versions in DynamoDB later. The engine only reads through this.
 */
export interface VendorDefinitionSource {
  /** Every vendor this source holds. */
  listVendors(): Promise<VendorDefinition[]>;
  /** One vendor, read afresh on each call (the active version can change), or undefined. */
  loadVendor(vendorId: string): Promise<VendorDefinition | undefined>;
  /** One version's content, or undefined when the source has no such version. */
  loadMappingVersion(
    vendorId: string,
    eventType: string,
    version: string,
  ): Promise<MappingVersionDefinition | undefined>;
}

/** How mappings are named in messages and logs: `vendorA/inventory_update/1`. */
export function mappingId(vendorId: string, eventType: string, version: string): string {
  return `${vendorId}/${eventType}/${version}`;
}

/**
 * Numeric-aware order of version names: "2" < "10", "1.9" < "1.10". Runs of digits compare as
 * numbers, everything else as text; ties (e.g. "1" and "01") fall back to plain text order so the
 * order is total.
 */
export function compareVersions(a: string, b: string): number {
  const partsA = a.match(/\d+|\D+/g) ?? [];
  const partsB = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(partsA.length, partsB.length); i++) {
    const [x, y] = [partsA[i] ?? "", partsB[i] ?? ""];
    const numeric = /^\d/.test(x) && /^\d/.test(y);
    const order = numeric ? compareDigits(x, y) : x < y ? -1 : x > y ? 1 : 0;
    if (order !== 0) return order;
  }
  if (partsA.length !== partsB.length) return partsA.length - partsB.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareDigits(x: string, y: string): number {
  const [p, q] = [x.replace(/^0+(?=\d)/, ""), y.replace(/^0+(?=\d)/, "")];
  if (p.length !== q.length) return p.length - q.length;
  return p < q ? -1 : p > q ? 1 : 0;
}

/**
 * The version to use: the envelope's schemaVersion when given, else the vendor's active version
 * for the event type (vendor.json `activeVersions`, default the highest). An event type the vendor
 * has no versions of is also an UnknownSchemaVersionError: either way no mapping applies, and the
 * operator's fix is the same (publish a version).
 */
export function selectMappingVersion(
  vendor: VendorDefinition,
  eventType: string,
  requestedVersion: string | undefined,
): string {
  const vendorId = vendor.profile.vendorId;
  const available = [
    ...(Object.hasOwn(vendor.versions, eventType) ? (vendor.versions[eventType] ?? []) : []),
  ].sort(compareVersions);
  if (available.length === 0) {
    const known = Object.keys(vendor.versions).sort();
    throw new UnknownSchemaVersionError(
      `Vendor ${vendorId} has no mapping for event type "${eventType}" (known event types: ${known.join(", ") || "none"})`,
      {
        details: [
          {
            path: "eventType",
            message: `no mapping for "${eventType}"; known: ${known.join(", ") || "none"}`,
          },
        ],
      },
    );
  }
  if (requestedVersion !== undefined) {
    if (available.includes(requestedVersion)) return requestedVersion;
    throw new UnknownSchemaVersionError(
      `Vendor ${vendorId} has no version "${requestedVersion}" of event type "${eventType}" (available: ${available.join(", ")})`,
      {
        details: [
          {
            path: "schemaVersion",
            message: `unknown version "${requestedVersion}"; available: ${available.join(", ")}`,
          },
        ],
      },
    );
  }
  const active = vendor.profile.activeVersions?.[eventType];
  if (active === undefined) return available[available.length - 1] as string;
  if (available.includes(active)) return active;
  throw new VendorDefinitionError(
    `Vendor ${vendorId} names "${active}" as the active version of "${eventType}", which does not exist (available: ${available.join(", ")})`,
    { details: [{ path: `activeVersions.${eventType}`, message: `version "${active}" does not exist` }] },
  );
}
