import { join } from "node:path";
import {
  type CrosswalkCache,
  createCrosswalkCache,
  requiresMatching,
  type VendorMatchPolicy,
} from "@dvss/core/crosswalk";
import { createFileSystemSource } from "@dvss/core/mapping/fs-source";
import { definitionsCacheMs } from "@dvss/core/mapping/store-source";
import { readCrosswalk } from "@dvss/core/ops/crosswalk";
import { getEntities } from "./aws.ts";

let cache: CrosswalkCache | undefined;

/** The container's crosswalk cache (core/crosswalk.ts, createCrosswalkCache). */
export function crosswalkCache(): CrosswalkCache {
  cache ??= createCrosswalkCache({ read: (vendorId) => readCrosswalk(getEntities(), vendorId) });
  return cache;
}

let policies: { vendorsDir: string; source: ReturnType<typeof createFileSystemSource> } | undefined;

/**
 * A vendor's `match` policy, from its bundled vendor.json (files deployed with the function: no
 * store call). A vendor without a folder matches every kind by identity.
 */
export async function matchPolicy(vendorId: string): Promise<VendorMatchPolicy | undefined> {
  const vendorsDir = process.env.DVSS_VENDORS_DIR ?? join(process.cwd(), "schemas/vendors");
  if (policies?.vendorsDir !== vendorsDir) {
    policies = { vendorsDir, source: createFileSystemSource(vendorsDir, { cacheMs: definitionsCacheMs() }) };
  }
  return (await policies.source.loadVendor(vendorId))?.profile.match;
}

/**
 * What matching the vendor's events takes: its policy, its crosswalk as cached, and whether Match
 * has anything to do (crosswalk entries, or a kind the policy requires be matched). Otherwise every
 * identifier is its own canonical id, and Map's result says so, so the workflow skips Match
 * (core/workflow.ts NeedsMatch). Both from caches: no store call per event.
 */
export async function vendorMatching(vendorId: string) {
  const [policy, cached] = await Promise.all([matchPolicy(vendorId), crosswalkCache().get(vendorId)]);
  return { policy, cached, needed: cached.table.size > 0 || requiresMatching(policy) };
}

/** For tests and a restarted local runtime: forget what was read. */
export function resetCrosswalkCache(): void {
  cache = undefined;
  policies = undefined;
}
