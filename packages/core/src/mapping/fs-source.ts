import { readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import * as v from "valibot";
import { VendorDefinitionError } from "../errors.ts";
import {
  EVENT_TYPE_PATTERN,
  type MappingVersionDefinition,
  mappingId,
  VERSION_PATTERN,
  type VendorDefinition,
  type VendorDefinitionSource,
  VendorProfileSchema,
} from "./definitions.ts";

const VENDOR_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export const VENDOR_FILE = "vendor.json";
export const PAYLOAD_SCHEMA_FILE = "payload.schema.json";
export const MAPPING_FILE = "mapping.jsonata";
export const EXAMPLES_DIR = "examples";

/** A name that can be a folder of the tree: matches its pattern and cannot climb out of it. */
function isSegment(name: string, pattern: RegExp): boolean {
  return pattern.test(name) && !name.startsWith(".");
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

async function subdirectories(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith("."))
    .map((entry) => entry.name)
    .sort();
}

/** Reads and parses a JSON file of a definition; `label` names it in errors without machine paths. */
export async function readDefinitionJson(path: string, label: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    if (isNotFound(cause)) throw new VendorDefinitionError(`${label} is missing`, { cause });
    throw cause;
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new VendorDefinitionError(`${label} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

/** One vendor folder: vendor.json and the versions found under `<eventType>/<version>/`. */
export async function readVendorDir(vendorDir: string): Promise<VendorDefinition> {
  const folderName = basename(vendorDir);
  const label = `${folderName}/${VENDOR_FILE}`;
  const result = v.safeParse(
    VendorProfileSchema,
    await readDefinitionJson(join(vendorDir, VENDOR_FILE), label),
  );
  if (!result.success) {
    const details = result.issues.map((issue) => ({
      path: (issue.path ?? []).map((item) => String(item.key)).join(".") || "$",
      message: issue.message,
    }));
    throw new VendorDefinitionError(`${label} is invalid: ${details.map((d) => d.path).join(", ")}`, {
      details,
    });
  }
  const profile = result.output;
  if (profile.vendorId !== folderName) {
    throw new VendorDefinitionError(
      `${label} says vendorId "${profile.vendorId}" but its folder is "${folderName}"`,
      {
        details: [{ path: "vendorId", message: `must be the folder name "${folderName}"` }],
      },
    );
  }
  const versions: Record<string, string[]> = {};
  for (const eventType of await subdirectories(vendorDir)) {
    if (!isSegment(eventType, EVENT_TYPE_PATTERN)) {
      throw new VendorDefinitionError(
        `${folderName}/${eventType} is not a valid event type folder (1-64 characters of a-z 0-9 . _ -)`,
      );
    }
    const eventTypeVersions = await subdirectories(join(vendorDir, eventType));
    for (const version of eventTypeVersions) {
      if (!isSegment(version, VERSION_PATTERN)) {
        throw new VendorDefinitionError(
          `${folderName}/${eventType}/${version} is not a valid version folder (1-32 characters of A-Z a-z 0-9 . _ -)`,
        );
      }
    }
    if (eventTypeVersions.length > 0) versions[eventType] = eventTypeVersions;
  }
  return { profile, versions };
}

/**
 * One version folder `<vendorId>/<eventType>/<version>/`. The ids come from the folder's path
 * unless given (e.g. a folder being published from elsewhere).
 */
export async function readVersionDir(
  versionDir: string,
  ids: { vendorId: string; eventType: string; version: string } = {
    vendorId: basename(dirname(dirname(versionDir))),
    eventType: basename(dirname(versionDir)),
    version: basename(versionDir),
  },
): Promise<MappingVersionDefinition> {
  const id = mappingId(ids.vendorId, ids.eventType, ids.version);
  const payloadSchema = await readDefinitionJson(
    join(versionDir, PAYLOAD_SCHEMA_FILE),
    `${id}/${PAYLOAD_SCHEMA_FILE}`,
  );
  if (typeof payloadSchema !== "object" || payloadSchema === null || Array.isArray(payloadSchema)) {
    throw new VendorDefinitionError(`${id}/${PAYLOAD_SCHEMA_FILE} must be a JSON Schema object`);
  }
  let mapping: string;
  try {
    mapping = await readFile(join(versionDir, MAPPING_FILE), "utf8");
  } catch (cause) {
    if (isNotFound(cause)) throw new VendorDefinitionError(`${id}/${MAPPING_FILE} is missing`, { cause });
    throw cause;
  }
  return { ...ids, payloadSchema: payloadSchema as Record<string, unknown>, mapping };
}

export interface FileSystemSourceOptions {
  /**
   * How long a vendor's folder, once read, answers version selection (0 = read on every call, as
   * the CLI does). The workflow selects a version per event: re-reading the folder each time cost
   * more than validating and mapping the event.
   */
  cacheMs?: number;
  now?: () => number;
}

/** The vendor definitions of a `schemas/vendors` folder. */
export function createFileSystemSource(
  vendorsDir: string,
  options: FileSystemSourceOptions = {},
): VendorDefinitionSource {
  const cacheMs = options.cacheMs ?? 0;
  const now = options.now ?? Date.now;
  const vendors = new Map<string, { expiresAt: number; vendor: Promise<VendorDefinition | undefined> }>();

  async function readVendor(vendorId: string): Promise<VendorDefinition | undefined> {
    if (!isSegment(vendorId, VENDOR_ID_PATTERN)) return undefined;
    const vendorDir = join(vendorsDir, vendorId);
    if (!(await isDirectory(vendorDir))) return undefined;
    return readVendorDir(vendorDir);
  }

  return {
    async listVendors() {
      const vendors: VendorDefinition[] = [];
      for (const name of await subdirectories(vendorsDir))
        vendors.push(await readVendorDir(join(vendorsDir, name)));
      return vendors;
    },

    loadVendor(vendorId) {
      if (cacheMs <= 0) return readVendor(vendorId);
      const cached = vendors.get(vendorId);
      if (cached && cached.expiresAt > now()) return cached.vendor;
      const entry = { expiresAt: now() + cacheMs, vendor: readVendor(vendorId) };
      vendors.set(vendorId, entry);
      // A broken folder is not kept: the next event reads it again.
      entry.vendor.catch(() => {
        if (vendors.get(vendorId) === entry) vendors.delete(vendorId);
      });
      return entry.vendor;
    },

    async loadMappingVersion(vendorId, eventType, version) {
      const valid =
        isSegment(vendorId, VENDOR_ID_PATTERN) &&
        isSegment(eventType, EVENT_TYPE_PATTERN) &&
        isSegment(version, VERSION_PATTERN);
      if (!valid) return undefined;
      const versionDir = join(vendorsDir, vendorId, eventType, version);
      if (!(await isDirectory(versionDir))) return undefined;
      return readVersionDir(versionDir, { vendorId, eventType, version });
    },
  };
}
