import { checkVendorSettings, rotateApiKey } from "../access.ts";
import { generateApiKey, registerApiKey } from "../auth.ts";
import { isConditionalCheckFailed } from "../entities/conditions.ts";
import { NotFoundError, OperationRefusedError, UsageError } from "../errors.ts";
import type { OpsContext } from "./context.ts";

/** Same rule as the envelope's vendorId (the envelope contract, docs/contract). */
const VENDOR_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export interface NewVendor {
  vendorId: string;
  name: string;
  priority: number;
  rateLimitPerSecond: number;
}

export interface IssuedKey {
  vendorId: string;
  /** Shown once: only its hash is stored. */
  apiKey: string;
  createdAt: string;
}

/**
 * Registers a vendor (profile + a first API key), its priority a whole number ≥ 0 and its rate
 * limit a whole number ≥ 1 (checkVendorSettings). The key is returned once and stored only as its
 * hash.
 */
export async function addVendor(
  context: OpsContext,
  vendor: NewVendor,
): Promise<IssuedKey & { vendor: NewVendor }> {
  if (!VENDOR_ID_PATTERN.test(vendor.vendorId)) {
    throw new UsageError(`vendorId "${vendor.vendorId}" must be 1-64 characters of A-Z a-z 0-9 . _ -`);
  }
  // The rules `vendor set` applies: a rate limit of 0 would admit nothing (to stop a vendor, pause it).
  checkVendorSettings({ priority: vendor.priority, rateLimitPerSecond: vendor.rateLimitPerSecond });
  const createdAt = new Date(context.now()).toISOString();
  try {
    await context.entities.vendors.create({ ...vendor, updatedAt: createdAt }).go();
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    throw new OperationRefusedError(
      `Vendor ${vendor.vendorId} exists already; to issue a new key use \`dvss vendor rotate-key ${vendor.vendorId}\``,
    );
  }
  const apiKey = generateApiKey();
  await registerApiKey(context.entities, { apiKey, vendorId: vendor.vendorId, role: "vendor" });
  return { vendorId: vendor.vendorId, apiKey, createdAt, vendor };
}

export interface RotatedKey extends IssuedKey {
  /** The vendor's earlier keys and when each stops working. */
  previousKeys: { createdAt: string; expiresAt: string }[];
}

/**
 * Issues a new key and lets the vendor's current keys work for `graceMs` more (rotateApiKey), so the
 * vendor can switch without an outage. Authentication caches answers for up to 30 s per container.
 */
export async function rotateVendorKey(
  context: OpsContext,
  vendorId: string,
  graceMs: number,
): Promise<RotatedKey> {
  const { data: vendor } = await context.entities.vendors.get({ vendorId }).go();
  if (!vendor) throw new NotFoundError(`No vendor ${vendorId}; add it with \`dvss vendor add ${vendorId}\``);
  const rotated = await rotateApiKey(
    context.entities,
    { id: vendorId, role: "vendor" },
    graceMs,
    context.now(),
  );
  return { vendorId, ...rotated };
}
