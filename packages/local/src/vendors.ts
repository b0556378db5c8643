import { randomUUID } from "node:crypto";
import { isAbsolute, relative } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { apiKeyFromHeaders, registerApiKey } from "@dvss/core/auth";
import { createEntities } from "@dvss/core/entities/index";
import { checkVendorFolders, type RefusedVendor } from "@dvss/core/mapping/check";
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

/**
 * Loads every vendor folder of `vendorsDir` that passes the check `dvss mapping check` runs
 * (checkVendorFolders): its profile into the Vendors table and its local key. A folder that fails
 * is refused, with one line naming the file and the field; the other vendors still load.
 */
export async function loadVendorFolders(
  tables: RunningStores["tables"],
  vendorsDir: string,
): Promise<{ vendorIds: string[]; refused: RefusedVendor[] }> {
  const { vendors, refused } = await checkVendorFolders(vendorsDir, vendorsDirLabel(vendorsDir));
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
  return { vendorIds: vendors.map((vendor) => vendor.profile.vendorId), refused };
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
