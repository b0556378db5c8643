import { compareVersions, type VendorDefinition, type VendorDefinitionSource } from "./definitions.ts";

/**
 * The definitions the workflow uses: the bundled folder (deployed with the functions; locally, the
 * copy the runtime checked at start) extended by the published versions (the store), so a vendor
 * is onboarded or fixed without a redeploy or a restart.
 *
 * - versions: the union of both; a version in both has the same content (publishing refuses
 *   anything else), so where it is read from does not matter, and it is read from the store first;
 * - profile: the bundled vendor.json when there is one, else the store's (a vendor added with
 *   `dvss vendor add`);
 * - active version per event type: the last publish wins over vendor.json's `activeVersions` and
 *   over the bundled default (the highest version). Publishing a bundled version makes it active.
 */
export function createCompositeSource(sources: {
  bundled: VendorDefinitionSource;
  published: VendorDefinitionSource;
}): VendorDefinitionSource {
  const { bundled, published } = sources;

  function merge(files: VendorDefinition | undefined, store: VendorDefinition | undefined) {
    if (!files || !store) return files ?? store;
    const versions: Record<string, string[]> = structuredClone(files.versions);
    for (const [eventType, storeVersions] of Object.entries(store.versions)) {
      versions[eventType] = [...new Set([...(versions[eventType] ?? []), ...storeVersions])].sort(
        compareVersions,
      );
    }
    const activeVersions = { ...files.profile.activeVersions, ...store.profile.activeVersions };
    return {
      profile: { ...files.profile, ...(Object.keys(activeVersions).length > 0 && { activeVersions }) },
      versions,
    };
  }

  return {
    async listVendors() {
      const [files, store] = await Promise.all([bundled.listVendors(), published.listVendors()]);
      const byId = new Map(files.map((vendor) => [vendor.profile.vendorId, vendor]));
      for (const vendor of store) {
        const id = vendor.profile.vendorId;
        byId.set(id, merge(byId.get(id), vendor) as VendorDefinition);
      }
      return [...byId.values()];
    },

    async loadVendor(vendorId) {
      const [files, store] = await Promise.all([
        bundled.loadVendor(vendorId),
        published.loadVendor(vendorId),
      ]);
      return merge(files, store);
    },

    async loadMappingVersion(vendorId, eventType, version) {
      return (
        (await published.loadMappingVersion(vendorId, eventType, version)) ??
        bundled.loadMappingVersion(vendorId, eventType, version)
      );
    },
  };
}
