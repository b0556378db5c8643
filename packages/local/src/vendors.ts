import { randomUUID } from "node:crypto";
import { cpSync, rmSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { apiKeyFromHeaders, registerApiKey } from "@dvss/core/auth";
import { createEntities } from "@dvss/core/entities/index";
import {
  checkExamples,
  checkVendorFolders,
  type ExampleResult,
  type RefusedVendor,
} from "@dvss/core/mapping/check";
import type { VendorDefinition } from "@dvss/core/mapping/definitions";
import type { ExtraRoute } from "./http-server.ts";
import { REPO_ROOT } from "./lambda.ts";
import type { RunningStores } from "./stores.ts";

export type { RefusedVendor };

export const LOCAL_CONSUMER_KEY = "local-consumer-key";
export const localVendorKey = (vendorId: string) => `local-${vendorId}-key`;

/** The vendors folder as messages name it: `schemas/vendors` inside the repository, else its path. */
export function vendorsDirLabel(vendorsDir: string): string {
  const fromRepo = relative(REPO_ROOT, vendorsDir);
  return fromRepo && !fromRepo.startsWith("..") && !isAbsolute(fromRepo) ? fromRepo : vendorsDir;
}

/** DVSS_DATA_DIR would put the copy of the vendors folder in it, or over it. */
export class VendorsDirOverlapError extends Error {
  constructor(sourceDir: string, snapshotDir: string) {
    super(
      `The vendors folder ${sourceDir} and the data directory's copy of it (${snapshotDir}) overlap: ` +
        "give DVSS_DATA_DIR a folder of its own",
    );
    this.name = "VendorsDirOverlapError";
  }
}

/** A bundled version that failed the checks of `dvss mapping publish`: left out of what runs. */
export interface RefusedVersion {
  /** `vendorId/eventType/version`. */
  id: string;
  /** One line: the folder, the example and what went wrong. */
  message: string;
}

/** Why a version's check failed, in one line: the first failing example and its first problem. */
function failureOf(label: string, failed: ExampleResult): string {
  const where = `${label}/${failed.mapping}${failed.example ? ` example ${failed.example}` : ""}`;
  const detail = failed.error?.details[0];
  const problem = failed.error
    ? `${failed.error.message}${detail && !failed.error.message.includes(detail.message) ? ` (${detail.path}: ${detail.message})` : ""}`
    : failed.diff.join("; ");
  return `${where}: ${problem}`;
}

/**
 * The bundled vendor definitions as they are at start, the only ones that run until the next start
 * (after that, only `dvss mapping publish` changes what runs): `sourceDir` is copied to `snapshotDir`
 * and the copy is checked, so what is checked is what runs, byte for byte, whatever happens to the
 * source meanwhile. A vendor folder that fails the check `dvss mapping check` runs is refused whole;
 * a version folder that fails the checks of `dvss mapping publish` (schema and mapping compile,
 * every golden example passes) is left out, as a refused publish would be.
 */
export async function snapshotVendorFolders(
  sourceDir: string,
  snapshotDir: string,
): Promise<{ vendors: VendorDefinition[]; refused: RefusedVendor[]; refusedVersions: RefusedVersion[] }> {
  const inside = (outer: string, inner: string) => {
    const path = relative(resolve(outer), resolve(inner));
    return !path.startsWith("..") && !isAbsolute(path);
  };
  // The copy is replaced at each start: it must never be, or hold, the folder it copies.
  if (inside(sourceDir, snapshotDir) || inside(snapshotDir, sourceDir)) {
    throw new VendorsDirOverlapError(sourceDir, snapshotDir);
  }
  rmSync(snapshotDir, { recursive: true, force: true });
  cpSync(sourceDir, snapshotDir, { recursive: true, dereference: true });
  const label = vendorsDirLabel(sourceDir);
  const { vendors, refused } = await checkVendorFolders(snapshotDir, label);
  for (const vendor of refused) rmSync(join(snapshotDir, vendor.vendorId), { recursive: true, force: true });
  const refusedVersions: RefusedVersion[] = [];
  for (const vendor of vendors) {
    for (const [eventType, versions] of Object.entries(vendor.versions)) {
      for (const version of [...versions]) {
        const versionDir = join(snapshotDir, vendor.profile.vendorId, eventType, version);
        const failed = (await checkExamples(versionDir)).results.find((result) => !result.passed);
        if (!failed) continue;
        rmSync(versionDir, { recursive: true, force: true });
        versions.splice(versions.indexOf(version), 1);
        refusedVersions.push({
          id: `${vendor.profile.vendorId}/${eventType}/${version}`,
          message: failureOf(label, failed),
        });
      }
      if (versions.length === 0) delete vendor.versions[eventType];
    }
  }
  return { vendors, refused, refusedVersions };
}

/**
 * Loads the bundled vendor definitions (snapshotVendorFolders): each accepted vendor's profile into
 * the Vendors table, and its local key. A refused vendor or version is named in one line; the
 * others still load.
 */
export async function loadVendorFolders(
  tables: RunningStores["tables"],
  sourceDir: string,
  snapshotDir: string,
): Promise<{ vendorIds: string[]; refused: RefusedVendor[]; refusedVersions: RefusedVersion[] }> {
  const { vendors, refused, refusedVersions } = await snapshotVendorFolders(sourceDir, snapshotDir);
  const dynamodb = new DynamoDBClient({});
  try {
    const entities = createEntities(dynamodb, tables);
    for (const { profile } of vendors) {
      await entities.vendors
        .upsert({
          vendorId: profile.vendorId,
          name: profile.name,
          priority: profile.priority,
          rateLimitPerSecond: profile.rateLimitPerSecond,
          updatedAt: new Date().toISOString(),
        })
        .go();
      await registerApiKey(entities, {
        apiKey: localVendorKey(profile.vendorId),
        vendorId: profile.vendorId,
        role: "vendor",
      });
    }
    await registerApiKey(entities, {
      apiKey: LOCAL_CONSUMER_KEY,
      vendorId: "local-consumer",
      role: "consumer",
    });
  } finally {
    dynamodb.destroy();
  }
  return { vendorIds: vendors.map((vendor) => vendor.profile.vendorId), refused, refusedVersions };
}

/**
 * An event posted with the local key of a refused vendor gets 503 UNAVAILABLE (nothing accepted,
 * retry) saying why the vendor is not loaded, instead of an unknown-key 401: the vendor did nothing
 * wrong, and once the folder is fixed and DVSS restarted its retry goes through.
 */
export function refusedVendorRoute(refused: readonly RefusedVendor[]): ExtraRoute {
  const byKey = new Map(refused.map((vendor) => [localVendorKey(vendor.vendorId), vendor]));
  return async (req, res) => {
    if (byKey.size === 0 || req.method !== "POST") return false;
    if (new URL(req.url ?? "/", "http://localhost").pathname !== "/v1/events") return false;
    let vendor: RefusedVendor | undefined;
    try {
      vendor = byKey.get(apiKeyFromHeaders(req.headers as Record<string, string | undefined>));
    } catch {
      return false;
    }
    if (!vendor) return false;
    const requestId = randomUUID();
    const message =
      `Vendor ${vendor.vendorId} is not loaded: its definition was refused at start (${vendor.message}). ` +
      "Nothing was accepted; retry once the folder is fixed and DVSS restarted.";
    res.writeHead(503, { "content-type": "application/json", "x-request-id": requestId });
    res.end(JSON.stringify({ error: { code: "UNAVAILABLE", message }, requestId }));
    return true;
  };
}
