import { isConditionalCheckFailed } from "../entities/conditions.ts";
import type { Entities } from "../entities/index.ts";
import { MappingVersionConflictError, VendorDefinitionError } from "../errors.ts";
import { canonicalJson, sha256Hex } from "../hash.ts";
import { millisecondsSetting } from "../settings.ts";
import {
  type MappingVersionDefinition,
  mappingId,
  type VendorDefinition,
  type VendorDefinitionSource,
  type VendorProfile,
} from "./definitions.ts";

/**
 * Vendor definitions published to the Vendors table (`dvss mapping publish`): immutable mapping
 * versions, and per vendor event type the active one. Read by the workflow through the composite
 * source (published over bundled), written only by publishMappingVersion.
 *
 * Freshness: which versions exist and which is active is read once per vendor per `cacheMs`
 * (default 5 s), because the selection runs for every event. A publish reaches:
 * - the publishing thread at once (publishMappingVersion calls notifyDefinitionsChanged);
 * - every other worker (a warm Lambda container, the local runtime's task thread) within
 *   `cacheMs`. No hook can reach those, so operations that must see a publish (redrive, replay)
 *   wait until `cacheMs` has passed since the vendor's last activation (lastActivationAt) before
 *   starting executions: a redrive right after a publish uses it, whoever published it.
 * Version contents are not cached here: they never change, and the engine compiles each once.
 */

export const DEFAULT_DEFINITIONS_CACHE_MS = 5_000;

/** How long a process may use what it read of a vendor's published versions; DVSS_DEFINITIONS_CACHE_MS overrides. */
export function definitionsCacheMs(env: Record<string, string | undefined> = process.env): number {
  return millisecondsSetting(env, "DVSS_DEFINITIONS_CACHE_MS", DEFAULT_DEFINITIONS_CACHE_MS);
}

type StoreEntities = Pick<Entities, "vendors" | "mappingVersions" | "activeMappings">;

/** The content that makes a version what it is; key order and formatting of the schema do not count. */
export function mappingContentSha256(
  definition: Pick<MappingVersionDefinition, "payloadSchema" | "mapping">,
) {
  return sha256Hex(canonicalJson({ payloadSchema: definition.payloadSchema, mapping: definition.mapping }));
}

export interface PublishedVendor {
  /** The vendor's profile in the store (absent: the vendor is not registered). */
  profile?: Omit<VendorProfile, "activeVersions">;
  /** Event type → published versions. */
  versions: Record<string, string[]>;
  /** Event type → the version the last publish made active. */
  active: Record<string, { version: string; activatedAt: string }>;
}

/** Everything the store says about one vendor's definitions: three reads, in parallel. */
export async function readPublishedVendor(
  entities: StoreEntities,
  vendorId: string,
): Promise<PublishedVendor> {
  const [vendor, versions, active] = await Promise.all([
    entities.vendors.get({ vendorId }).go(),
    entities.mappingVersions.query
      .version({ vendorId })
      .go({ pages: "all", attributes: ["eventType", "version"] }),
    entities.activeMappings.query.active({ vendorId }).go({ pages: "all" }),
  ]);
  const published: PublishedVendor = { versions: {}, active: {} };
  if (vendor.data) {
    const { name, priority, rateLimitPerSecond } = vendor.data;
    published.profile = { vendorId, name, priority, rateLimitPerSecond };
  }
  for (const { eventType, version } of versions.data) {
    published.versions[eventType] ??= [];
    published.versions[eventType].push(version);
  }
  for (const item of active.data) {
    published.active[item.eventType] = { version: item.version, activatedAt: item.activatedAt };
  }
  return published;
}

/** When the vendor's active versions last changed, in epoch ms (undefined: never published). */
export async function lastActivationAt(
  entities: StoreEntities,
  vendorId: string,
): Promise<number | undefined> {
  const { data } = await entities.activeMappings.query.active({ vendorId }).go({ pages: "all" });
  const times = data.map((item) => Date.parse(item.activatedAt)).filter(Number.isFinite);
  return times.length > 0 ? Math.max(...times) : undefined;
}

// Every store source of this process, so a publish made here is seen here at once.
const liveCaches = new Set<WeakRef<Map<string, unknown>>>();

/** Forgets what this process's store sources read of a vendor (or of every vendor). */
export function notifyDefinitionsChanged(vendorId?: string): void {
  for (const ref of liveCaches) {
    const cache = ref.deref();
    if (!cache) liveCaches.delete(ref);
    else if (vendorId === undefined) cache.clear();
    else cache.delete(vendorId);
  }
}

export interface StoreSourceOptions {
  /** Read on every lookup, so clients rebuilt for new endpoints are picked up. */
  entities: () => StoreEntities;
  cacheMs?: number;
  now?: () => number;
}

/** Published definitions, as a VendorDefinitionSource. A vendor without a profile in the store is unknown to it. */
export function createStoreSource(options: StoreSourceOptions): VendorDefinitionSource {
  const cacheMs = options.cacheMs ?? definitionsCacheMs();
  const now = options.now ?? Date.now;
  const cache = new Map<string, { expiresAt: number; published: Promise<PublishedVendor> }>();
  liveCaches.add(new WeakRef(cache));

  function published(vendorId: string): Promise<PublishedVendor> {
    const cached = cache.get(vendorId);
    if (cached && cached.expiresAt > now()) return cached.published;
    const entry = {
      expiresAt: now() + cacheMs,
      published: readPublishedVendor(options.entities(), vendorId),
    };
    cache.set(vendorId, entry);
    // A failed read is not kept: the next event tries again.
    entry.published.catch(() => {
      if (cache.get(vendorId) === entry) cache.delete(vendorId);
    });
    return entry.published;
  }

  function definitionOf(vendor: PublishedVendor): VendorDefinition | undefined {
    if (!vendor.profile) return undefined;
    const activeVersions = Object.fromEntries(
      Object.entries(vendor.active).map(([eventType, { version }]) => [eventType, version]),
    );
    return {
      profile: { ...vendor.profile, ...(Object.keys(activeVersions).length > 0 && { activeVersions }) },
      versions: structuredClone(vendor.versions),
    };
  }

  return {
    async listVendors() {
      const { data } = await options.entities().vendors.query.all({}).go({ pages: "all" });
      const vendors = await Promise.all(
        data.map(async ({ vendorId }) => definitionOf(await published(vendorId))),
      );
      return vendors.filter((vendor) => vendor !== undefined);
    },

    async loadVendor(vendorId) {
      return definitionOf(await published(vendorId));
    },

    async loadMappingVersion(vendorId, eventType, version) {
      const { data } = await options.entities().mappingVersions.get({ vendorId, eventType, version }).go();
      if (!data) return undefined;
      let payloadSchema: unknown;
      try {
        payloadSchema = JSON.parse(data.payloadSchema);
      } catch (cause) {
        throw new VendorDefinitionError(
          `${mappingId(vendorId, eventType, version)}: stored schema is not JSON`,
          {
            cause,
          },
        );
      }
      return {
        vendorId,
        eventType,
        version,
        payloadSchema: payloadSchema as Record<string, unknown>,
        mapping: data.mapping,
      };
    },
  };
}

export interface PublishResult {
  /** `vendorId/eventType/version`. */
  id: string;
  /** "published": written now; "unchanged": the same content was already published. */
  outcome: "published" | "unchanged";
  contentSha256: string;
  /** The event type's active version before and after. */
  previousActive: string | undefined;
  active: string;
  activatedAt: string;
}

/**
 * Publishes one version and makes it the event type's active version. Immutable: the same
 * version again with the same content changes nothing but (if needed) which version is active,
 * which is also how to go back to an earlier version; with other content it is refused, and so is
 * a version whose bundled folder (`bundled`, when given) holds other content. The caller
 * validates first (compile, examples): this only records.
 */
export async function publishMappingVersion(
  entities: StoreEntities,
  definition: MappingVersionDefinition,
  options: { examples: number; bundled?: VendorDefinitionSource; now?: Date },
): Promise<PublishResult> {
  const { vendorId, eventType, version } = definition;
  const id = mappingId(vendorId, eventType, version);
  const contentSha256 = mappingContentSha256(definition);
  const refuse = (where: string) =>
    new MappingVersionConflictError(
      `${id} is already ${where} with other content; versions are immutable: publish this one as a new version`,
      { details: [{ path: "version", message: `"${version}" exists with other content` }] },
    );

  const bundled = await options.bundled?.loadMappingVersion(vendorId, eventType, version);
  if (bundled && mappingContentSha256(bundled) !== contentSha256) throw refuse("bundled");

  const activatedAt = (options.now ?? new Date()).toISOString();
  let outcome: PublishResult["outcome"] = "published";
  try {
    await entities.mappingVersions
      .create({
        vendorId,
        eventType,
        version,
        payloadSchema: JSON.stringify(definition.payloadSchema),
        mapping: definition.mapping,
        contentSha256,
        examples: options.examples,
        publishedAt: activatedAt,
      })
      .go();
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    const { data: existing } = await entities.mappingVersions.get({ vendorId, eventType, version }).go();
    if (existing?.contentSha256 !== contentSha256) throw refuse("published");
    outcome = "unchanged";
  }

  const { data: current } = await entities.activeMappings.get({ vendorId, eventType }).go();
  if (current?.version !== version) {
    await entities.activeMappings
      .put({
        vendorId,
        eventType,
        version,
        ...(current && { previousVersion: current.version }),
        activatedAt,
      })
      .go();
  }
  notifyDefinitionsChanged(vendorId);
  return {
    id,
    outcome,
    contentSha256,
    previousActive: current?.version,
    active: version,
    activatedAt: current?.version === version ? current.activatedAt : activatedAt,
  };
}
