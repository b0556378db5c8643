import { readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import * as v from "valibot";
import { type FieldIssue, VendorDefinitionError } from "../errors.ts";
import {
  EVENT_TYPE_PATTERN,
  type MappingVersionDefinition,
  mappingId,
  VERSION_PATTERN,
  type VendorDefinition,
  type VendorDefinitionSource,
  type VendorProfile,
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

/** The folders of `dir` in name order, leaving out hidden ones (`.git`, `.DS_Store` folders). */
export async function subdirectories(dir: string): Promise<string[]> {
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

/** What each field of vendor.json must be, as a problem names it (`priority: required, a whole number ...`). */
const VENDOR_FIELD_RULES: Record<string, string> = {
  vendorId: "1-64 characters of A-Z a-z 0-9 . _ -, the folder's name",
  name: "a non-empty string",
  priority: "a whole number (the lower wins ties at the same occurredAt)",
  rateLimitPerSecond: "a whole number of events per second, at least 1 (to stop a vendor, pause it)",
  activeVersions: 'an object {"<eventType>": "<version>"}',
};
const REQUIRED_VENDOR_FIELDS = ["vendorId", "name", "priority", "rateLimitPerSecond"];

/** One line for a definition file's problems: `<file>: <field>: <problem>; <field>: <problem>`. */
function definitionProblem(file: string, details: FieldIssue[], cause?: unknown): VendorDefinitionError {
  const message = `${file}: ${details.map((d) => (d.path === "$" ? d.message : `${d.path}: ${d.message}`)).join("; ")}`;
  return new VendorDefinitionError(message, { details, ...(cause !== undefined && { cause }) });
}

/**
 * vendor.json of a vendor folder, checked field by field: required, of its type, no unknown
 * field, vendorId the folder's name. `file` names it in errors (e.g. `schemas/vendors/x/vendor.json`).
 */
async function readVendorProfile(vendorDir: string, file: string): Promise<VendorProfile> {
  let text: string;
  try {
    text = await readFile(join(vendorDir, VENDOR_FILE), "utf8");
  } catch (cause) {
    if (!isNotFound(cause)) throw cause;
    const needs = `a vendor folder needs one with ${REQUIRED_VENDOR_FIELDS.slice(0, -1).join(", ")} and ${REQUIRED_VENDOR_FIELDS.at(-1)}`;
    throw definitionProblem(file, [{ path: "$", message: `missing; ${needs}` }], cause);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw definitionProblem(
      file,
      [{ path: "$", message: `not valid JSON: ${(cause as Error).message}` }],
      cause,
    );
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    const fields = REQUIRED_VENDOR_FIELDS.join(", ");
    throw definitionProblem(file, [{ path: "$", message: `must be a JSON object with ${fields}` }]);
  }
  const result = v.safeParse(VendorProfileSchema, json);
  if (!result.success) {
    const details: FieldIssue[] = [];
    for (const issue of result.issues) {
      const path = (issue.path ?? []).map((item) => String(item.key));
      const field = path[0] ?? "$";
      const rule = VENDOR_FIELD_RULES[field];
      const message =
        rule === undefined
          ? `unknown field (allowed: ${Object.keys(VENDOR_FIELD_RULES).join(", ")})`
          : path.length === 1 && issue.input === undefined
            ? `required, ${rule}`
            : `must be ${rule}`;
      if (!details.some((detail) => detail.path === field)) details.push({ path: field, message });
    }
    throw definitionProblem(file, details);
  }
  const profile = result.output;
  const folderName = basename(vendorDir);
  if (profile.vendorId !== folderName) {
    throw definitionProblem(file, [{ path: "vendorId", message: `must be the folder name "${folderName}"` }]);
  }
  return profile;
}

/**
 * One vendor folder: vendor.json and the versions found under `<eventType>/<version>/`. `label`
 * names the folder in errors (default its name), so a caller can say `schemas/vendors/<vendorId>`.
 */
export async function readVendorDir(
  vendorDir: string,
  label: string = basename(vendorDir),
): Promise<VendorDefinition> {
  const profile = await readVendorProfile(vendorDir, `${label}/${VENDOR_FILE}`);
  const versions: Record<string, string[]> = {};
  for (const eventType of await subdirectories(vendorDir)) {
    if (!isSegment(eventType, EVENT_TYPE_PATTERN)) {
      throw new VendorDefinitionError(
        `${label}/${eventType}: not a valid event type folder (1-64 characters of a-z 0-9 . _ -)`,
      );
    }
    const eventTypeVersions = await subdirectories(join(vendorDir, eventType));
    for (const version of eventTypeVersions) {
      if (!isSegment(version, VERSION_PATTERN)) {
        throw new VendorDefinitionError(
          `${label}/${eventType}/${version}: not a valid version folder (1-32 characters of A-Z a-z 0-9 . _ -)`,
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
