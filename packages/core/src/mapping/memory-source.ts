import {
  type MappingVersionDefinition,
  mappingId,
  type VendorDefinitionSource,
  type VendorProfile,
} from "./definitions.ts";

/**
 * Definitions held in memory: for tests, and for callers that already hold the definitions
 * (e.g. a folder about to be published). Add or replace entries through the returned object.
 */
export function createInMemorySource(
  initial: { vendors?: VendorProfile[]; versions?: MappingVersionDefinition[] } = {},
): VendorDefinitionSource & {
  putVendor(profile: VendorProfile): void;
  putMappingVersion(definition: MappingVersionDefinition): void;
} {
  const vendors = new Map<string, VendorProfile>();
  const versions = new Map<string, MappingVersionDefinition>();

  const definitionOf = (profile: VendorProfile) => {
    const byEventType: Record<string, string[]> = {};
    for (const definition of versions.values()) {
      if (definition.vendorId !== profile.vendorId) continue;
      byEventType[definition.eventType] ??= [];
      byEventType[definition.eventType]?.push(definition.version);
    }
    return { profile: structuredClone(profile), versions: byEventType };
  };

  const source = {
    async listVendors() {
      return [...vendors.values()].map(definitionOf);
    },
    async loadVendor(vendorId: string) {
      const profile = vendors.get(vendorId);
      return profile && definitionOf(profile);
    },
    async loadMappingVersion(vendorId: string, eventType: string, version: string) {
      const definition = versions.get(mappingId(vendorId, eventType, version));
      return definition && structuredClone(definition);
    },
    putVendor(profile: VendorProfile) {
      vendors.set(profile.vendorId, structuredClone(profile));
    },
    putMappingVersion(definition: MappingVersionDefinition) {
      versions.set(
        mappingId(definition.vendorId, definition.eventType, definition.version),
        structuredClone(definition),
      );
    },
  };
  for (const profile of initial.vendors ?? []) source.putVendor(profile);
  for (const definition of initial.versions ?? []) source.putMappingVersion(definition);
  return source;
}
