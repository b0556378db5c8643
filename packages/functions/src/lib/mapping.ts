import { join } from "node:path";
import { createCompositeSource } from "@dvss/core/mapping/composite-source";
import type { VendorDefinitionSource } from "@dvss/core/mapping/definitions";
import { createMappingEngine, type MappingEngine } from "@dvss/core/mapping/engine";
import { createFileSystemSource } from "@dvss/core/mapping/fs-source";
import { createStoreSource, definitionsCacheMs } from "@dvss/core/mapping/store-source";
import { getEntities, logger, resourceName } from "./aws.ts";

let engine: MappingEngine | undefined;
let engineSource: VendorDefinitionSource | undefined;
let engineVendorsDir: string | undefined;

/** Published versions live in the Vendors table; a function not linked to it sees bundled ones only, and says so. */
function publishedSource(): VendorDefinitionSource | undefined {
  try {
    resourceName("Vendors");
  } catch {
    logger.warn("Vendors table not linked: published mapping versions are not visible to this function");
    return undefined;
  }
  return createStoreSource({ entities: getEntities });
}

/**
 * The container's mapping engine, built once: bundled definitions (the folder deployed with the
 * function) extended by published ones (store-source.ts). Compiled versions are cached for the
 * container's life (a version never changes); which versions exist and which is active is read
 * per vendor at most every few seconds (DVSS_DEFINITIONS_CACHE_MS, default 5 s), so a publish
 * reaches every warm container within that time, and this process at once.
 */
export function mappingEngine(): MappingEngine {
  const vendorsDir = process.env.DVSS_VENDORS_DIR ?? join(process.cwd(), "schemas/vendors");
  // A local runtime restarted in the same process may point at another folder.
  if (!engine || engineVendorsDir !== vendorsDir) {
    const bundled = createFileSystemSource(vendorsDir, { cacheMs: definitionsCacheMs() });
    const published = publishedSource();
    engineSource = published ? createCompositeSource({ bundled, published }) : bundled;
    engine = createMappingEngine({ source: engineSource });
    engineVendorsDir = vendorsDir;
  }
  return engine;
}

/** The definitions the container's engine reads (drift profiles read the same), and their bundled folder. */
export function definitionSource(): { source: VendorDefinitionSource; vendorsDir: string } {
  mappingEngine();
  return { source: engineSource as VendorDefinitionSource, vendorsDir: engineVendorsDir as string };
}
