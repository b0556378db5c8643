import type { Envelope } from "../envelope.ts";
import { UnknownSchemaVersionError } from "../errors.ts";
import { cachedPromise, LruMap } from "../lru.ts";
import {
  type CompiledMapping,
  compileMappingVersion,
  DEFAULT_MAPPING_LIMITS,
  type MappedEvent,
  type MappingLimits,
} from "./compile.ts";
import { mappingId, selectMappingVersion, type VendorDefinitionSource } from "./definitions.ts";
import type { MappingPool } from "./isolation.ts";

export interface MappingEngineOptions {
  source: VendorDefinitionSource;
  limits?: Partial<MappingLimits>;
  /** Where mappings are evaluated (isolation.ts); default the process's shared pool. */
  pool?: MappingPool;
  /** Compiled versions kept at most (default MAX_COMPILED_VERSIONS); past it the least recently used goes. */
  maxCompiledVersions?: number;
}

/** A container keeps this many compiled versions: every vendor event type's active ones and then some. */
export const MAX_COMPILED_VERSIONS = 256;

/** Validates vendor payloads and maps them to standard events, from whatever source holds the definitions. */
export interface MappingEngine {
  /** The version an envelope maps with: its schemaVersion, else the vendor's active one. */
  selectVersion(envelope: Pick<Envelope, "vendorId" | "eventType" | "schemaVersion">): Promise<string>;
  /** The compiled version, from the cache or compiled now; UnknownSchemaVersionError if the source lacks it. */
  compiled(vendorId: string, eventType: string, version: string): Promise<CompiledMapping>;
  /** Selects the version and checks the payload against its schema (SchemaValidationError otherwise). */
  validatePayload(envelope: Envelope): Promise<{ mappingVersion: string }>;
  /** Maps an envelope (already validated) with the given version. */
  mapEvent(envelope: Envelope, mappingVersion: string): Promise<MappedEvent>;
  /** Forgets compiled versions, e.g. after definitions were edited in place during development. */
  clearCache(): void;
}

/**
 * Compiled versions are cached per (vendorId, eventType, version), the least recently used
 * dropped past maxCompiledVersions: a published version never changes, so a cached one is never
 * stale. Which version is active is asked of the source on every selection (which keeps it for
 * its own freshness period), so a newly published version is used by the next event or redrive.
 */
export function createMappingEngine(options: MappingEngineOptions): MappingEngine {
  const { source } = options;
  const limits: MappingLimits = { ...DEFAULT_MAPPING_LIMITS, ...options.limits };
  const cache = new LruMap<string, Promise<CompiledMapping>>(
    options.maxCompiledVersions ?? MAX_COMPILED_VERSIONS,
  );

  async function load(vendorId: string, eventType: string, version: string): Promise<CompiledMapping> {
    const definition = await source.loadMappingVersion(vendorId, eventType, version);
    if (!definition) {
      throw new UnknownSchemaVersionError(`No mapping ${mappingId(vendorId, eventType, version)}`, {
        details: [{ path: "schemaVersion", message: `unknown version "${version}" of "${eventType}"` }],
      });
    }
    // Nested repetitions in regexes are refused at publish and check, not here: a version already
    // published keeps working, each evaluation bounded in time and memory by its evaluator.
    return compileMappingVersion(definition, limits, {
      refuseNestedRepetition: false,
      ...(options.pool && { pool: options.pool }),
    });
  }

  const engine: MappingEngine = {
    async selectVersion(envelope) {
      const vendor = await source.loadVendor(envelope.vendorId);
      if (!vendor) {
        throw new UnknownSchemaVersionError(`Vendor ${envelope.vendorId} has no mapping definitions`, {
          details: [{ path: "vendorId", message: `no mapping definitions for "${envelope.vendorId}"` }],
        });
      }
      return selectMappingVersion(vendor, envelope.eventType, envelope.schemaVersion);
    },

    compiled(vendorId, eventType, version) {
      // Concurrent events compile once; a failure is not kept, so a fixed definition (or a source
      // that was briefly unavailable) is picked up next time.
      return cachedPromise(cache, mappingId(vendorId, eventType, version), () =>
        load(vendorId, eventType, version),
      );
    },

    async validatePayload(envelope) {
      const mappingVersion = await engine.selectVersion(envelope);
      const compiled = await engine.compiled(envelope.vendorId, envelope.eventType, mappingVersion);
      compiled.validatePayload(envelope.payload);
      return { mappingVersion };
    },

    async mapEvent(envelope, mappingVersion) {
      const compiled = await engine.compiled(envelope.vendorId, envelope.eventType, mappingVersion);
      return compiled.map(envelope);
    },

    clearCache() {
      cache.clear();
    },
  };
  return engine;
}
