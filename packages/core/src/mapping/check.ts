import { readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { type Envelope, validateEnvelope } from "../envelope.ts";
import { DvssError, type FieldIssue, VendorDefinitionError } from "../errors.ts";
import { buildNormalizedDocument, type NormalizedDocument } from "../normalized.ts";
import { type CompiledMapping, compileMappingVersion, type MappingLimits } from "./compile.ts";
import { mappingId, type VendorDefinition } from "./definitions.ts";
import {
  EXAMPLES_DIR,
  MAPPING_FILE,
  PAYLOAD_SCHEMA_FILE,
  readDefinitionJson,
  readVendorDir,
  readVersionDir,
  subdirectories,
  VENDOR_FILE,
} from "./fs-source.ts";

const INPUT_SUFFIX = ".input.json";
const EXPECTED_SUFFIX = ".expected.json";

// Stand-ins for the two fields that differ per run; removed again before comparing.
const EXAMPLE_INGEST_ID = "00000000000000000000000000";
const EXAMPLE_RAW_REF = { bucket: "example", key: "example" };

export interface ExampleResult {
  /** `vendorId/eventType/version`, or the vendor folder's name when the folder itself is broken. */
  mapping: string;
  /** The example's name (`<name>.input.json`); empty when the problem is the version itself. */
  example: string;
  passed: boolean;
  /** Where expected and actual differ, one line per field; empty unless the output differed. */
  diff: string[];
  /** The normalized document produced (without ingestId and rawRef), when the example got that far. */
  actual?: unknown;
  /** Why the example could not produce a document (or why the version could not run at all). */
  error?: { name: string; code?: string; message: string; details: FieldIssue[] };
}

export interface ExampleCheckReport {
  passed: boolean;
  total: number;
  failed: number;
  results: ExampleResult[];
}

/** Where check results and refusals name a folder: as the caller knows it, e.g. `schemas/vendors`. */
export interface CheckOptions {
  /** The folder as it should appear in messages (default: the vendor folder's own name). */
  label?: string;
}

/**
 * Runs the golden examples of a vendor definitions tree (`schemas/vendors`), of one vendor folder,
 * or of one version folder: each `<name>.input.json` envelope through payload validation and the
 * mapping, compared with `<name>.expected.json`. Backs `dvss mapping check`. Each vendor folder is
 * first checked as the local runtime checks it at start (checkVendorFolder): a broken one is one
 * FAIL naming the file and the field, and the other vendors are still checked.
 */
export async function checkExamples(
  dir: string,
  limits?: MappingLimits,
  options: CheckOptions = {},
): Promise<ExampleCheckReport> {
  const results: ExampleResult[] = [];
  for (const target of await targetsOf(dir, options.label)) {
    if (target.kind === "version") {
      results.push(...(await checkVersionDir(target.dir, limits)));
      continue;
    }
    const checked = await checkVendorFolder(target.dir, target.label);
    if (!checked.vendor) {
      const error = errorOf(checked.error);
      results.push({ mapping: checked.vendorId, example: "", passed: false, diff: [], error });
      continue;
    }
    for (const [eventType, versions] of Object.entries(checked.vendor.versions)) {
      for (const version of versions)
        results.push(...(await checkVersionDir(join(target.dir, eventType, version), limits)));
    }
  }
  const failed = results.filter((result) => !result.passed).length;
  return { passed: failed === 0 && results.length > 0, total: results.length, failed, results };
}

/** One vendor folder as `mapping check` and the local runtime's start see it. */
export interface VendorFolderCheck {
  /** The folder's name: the vendorId its events and key carry. */
  vendorId: string;
  /** The definition, when the folder can be used. */
  vendor?: VendorDefinition;
  /** Why it cannot: the message is one line naming the file and the field. */
  error?: VendorDefinitionError;
}

/**
 * Checks one vendor folder: vendor.json present, its four fields (vendorId, name, priority,
 * rateLimitPerSecond) there and of their type, no unknown field, vendorId the folder's name, and
 * event type and version folders with valid names. Never throws for a broken folder: it says why.
 */
export async function checkVendorFolder(
  vendorDir: string,
  label: string = basename(vendorDir),
): Promise<VendorFolderCheck> {
  const vendorId = basename(vendorDir);
  try {
    return { vendorId, vendor: await readVendorDir(vendorDir, label) };
  } catch (error) {
    if (error instanceof VendorDefinitionError) return { vendorId, error };
    const message = `${label}: cannot be read: ${(error as Error).message}`;
    return { vendorId, error: new VendorDefinitionError(message, { cause: error }) };
  }
}

export interface RefusedVendor {
  vendorId: string;
  /** One line naming the file and the field: `schemas/vendors/x/vendor.json: priority: required, ...`. */
  message: string;
  details: FieldIssue[];
}

/**
 * Every vendor folder of a definitions tree, checked with checkVendorFolder: the vendors that can
 * be used and the refused ones. One broken folder does not stop the others.
 */
export async function checkVendorFolders(
  vendorsDir: string,
  label?: string,
): Promise<{ vendors: VendorDefinition[]; refused: RefusedVendor[] }> {
  const vendors: VendorDefinition[] = [];
  const refused: RefusedVendor[] = [];
  for (const name of await subdirectories(vendorsDir)) {
    const checked = await checkVendorFolder(join(vendorsDir, name), label ? `${label}/${name}` : name);
    if (checked.vendor) vendors.push(checked.vendor);
    else if (checked.error) {
      refused.push({ vendorId: name, message: checked.error.message, details: checked.error.details });
    }
  }
  return { vendors, refused };
}

async function entriesOf(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (cause) {
    throw new VendorDefinitionError(`Cannot read folder ${basename(dir)}: ${(cause as Error).message}`, {
      cause,
    });
  }
}

type Target = { kind: "version"; dir: string } | { kind: "vendor"; dir: string; label: string };

async function isVersionDir(dir: string): Promise<boolean> {
  const names = new Set((await entriesOf(dir)).map((entry) => entry.name));
  return names.has(MAPPING_FILE) || names.has(PAYLOAD_SCHEMA_FILE);
}

async function childDirs(dir: string): Promise<string[]> {
  return (await subdirectories(dir)).map((name) => join(dir, name));
}

/**
 * What a folder given to `mapping check` holds: one version folder (it has a mapping or a payload
 * schema), one event type's versions, one vendor folder (it has vendor.json, or versions two levels
 * down, so a forgotten vendor.json is reported, not skipped) or a folder of vendor folders, each
 * of which must then be a vendor folder.
 */
async function targetsOf(dir: string, label?: string): Promise<Target[]> {
  if (await isVersionDir(dir)) return [{ kind: "version", dir }];
  const vendor = (): Target => ({ kind: "vendor", dir, label: label ?? basename(dir) });
  if ((await entriesOf(dir)).some((entry) => entry.name === VENDOR_FILE)) return [vendor()];
  const children = await childDirs(dir);
  const versionChildren = [];
  for (const child of children) if (await isVersionDir(child)) versionChildren.push(child);
  if (versionChildren.length > 0) return versionChildren.map((child) => ({ kind: "version", dir: child }));
  for (const child of children) {
    for (const grandchild of await childDirs(child)) if (await isVersionDir(grandchild)) return [vendor()];
  }
  if (children.length === 0) {
    throw new VendorDefinitionError(
      `${basename(dir)} is not a vendor folder (${VENDOR_FILE}), a version folder (${MAPPING_FILE}) or a folder of vendors`,
    );
  }
  return children.map((child) => ({
    kind: "vendor",
    dir: child,
    label: label ? `${label}/${basename(child)}` : basename(child),
  }));
}

function errorOf(error: unknown): NonNullable<ExampleResult["error"]> {
  if (error instanceof DvssError) {
    return { name: error.name, code: error.code, message: error.message, details: error.details };
  }
  const { name, message } = error instanceof Error ? error : { name: "Error", message: String(error) };
  return { name, message, details: [] };
}

async function checkVersionDir(versionDir: string, limits?: MappingLimits): Promise<ExampleResult[]> {
  const fallbackId = mappingId(
    basename(join(versionDir, "..", "..")),
    basename(join(versionDir, "..")),
    basename(versionDir),
  );
  let compiled: CompiledMapping;
  try {
    compiled = compileMappingVersion(await readVersionDir(versionDir), limits);
  } catch (error) {
    return [{ mapping: fallbackId, example: "", passed: false, diff: [], error: errorOf(error) }];
  }
  const examplesDir = join(versionDir, EXAMPLES_DIR);
  const files = (await entriesOf(versionDir)).some(
    (entry) => entry.name === EXAMPLES_DIR && entry.isDirectory(),
  )
    ? (await entriesOf(examplesDir)).filter((entry) => entry.isFile()).map((entry) => entry.name)
    : [];
  const names = [
    ...new Set(
      files.flatMap((file) => {
        if (file.endsWith(INPUT_SUFFIX)) return [file.slice(0, -INPUT_SUFFIX.length)];
        if (file.endsWith(EXPECTED_SUFFIX)) return [file.slice(0, -EXPECTED_SUFFIX.length)];
        return [];
      }),
    ),
  ].sort();
  if (names.length === 0) {
    const error = new VendorDefinitionError(
      `${compiled.id} has no examples (${EXAMPLES_DIR}/<name>${INPUT_SUFFIX})`,
    );
    return [{ mapping: compiled.id, example: "", passed: false, diff: [], error: errorOf(error) }];
  }
  const results: ExampleResult[] = [];
  for (const name of names) results.push(await checkExample(compiled, examplesDir, name));
  return results;
}

async function checkExample(
  compiled: CompiledMapping,
  examplesDir: string,
  name: string,
): Promise<ExampleResult> {
  const result: ExampleResult = { mapping: compiled.id, example: name, passed: false, diff: [] };
  try {
    const label = `${compiled.id}/${EXAMPLES_DIR}/${name}`;
    const input = await readDefinitionJson(
      join(examplesDir, `${name}${INPUT_SUFFIX}`),
      `${label}${INPUT_SUFFIX}`,
    );
    const expected = await readDefinitionJson(
      join(examplesDir, `${name}${EXPECTED_SUFFIX}`),
      `${label}${EXPECTED_SUFFIX}`,
    );
    const envelope = validateEnvelope(input);
    const misplaced = [
      envelope.vendorId === compiled.vendorId
        ? undefined
        : { path: "vendorId", message: `must be "${compiled.vendorId}"` },
      envelope.eventType === compiled.eventType
        ? undefined
        : { path: "eventType", message: `must be "${compiled.eventType}"` },
      envelope.schemaVersion === undefined || envelope.schemaVersion === compiled.version
        ? undefined
        : { path: "schemaVersion", message: `must be "${compiled.version}" or absent` },
    ].filter((issue) => issue !== undefined);
    if (misplaced.length > 0) {
      throw new VendorDefinitionError(`Example ${label} is an envelope for another folder`, {
        details: misplaced,
      });
    }
    const actual = await exampleOutput(compiled, envelope);
    result.actual = actual;
    result.diff = diffJson(expected, actual);
    result.passed = result.diff.length === 0;
  } catch (error) {
    result.error = errorOf(error);
  }
  return result;
}

/**
 * What `<name>.expected.json` holds for an envelope: the payload validated and mapped with the
 * version, as the normalized document without ingestId and rawRef. Throws what the workflow would.
 */
export async function exampleOutput(
  compiled: CompiledMapping,
  envelope: Envelope,
): Promise<Omit<NormalizedDocument, "ingestId" | "rawRef">> {
  compiled.validatePayload(envelope.payload);
  const mapped = await compiled.map(envelope);
  const {
    ingestId: _ingestId,
    rawRef: _rawRef,
    ...document
  } = buildNormalizedDocument({
    ingestId: EXAMPLE_INGEST_ID,
    envelope,
    standardEventType: mapped.standardEventType,
    data: mapped.data,
    rawRef: EXAMPLE_RAW_REF,
  });
  return document;
}

function show(value: unknown): string {
  return value === undefined ? "(absent)" : JSON.stringify(value);
}

/** One field where two JSON values differ; `undefined` means the field is absent on that side. */
export interface JsonDifference {
  /** Dotted path, array indexes as numbers (`data.lines.0.sku`); `(document)` for the whole value. */
  path: string;
  expected: unknown;
  actual: unknown;
}

/** The fields where two JSON values differ, in the order of the keys. Object key order does not count. */
export function jsonDifferences(expected: unknown, actual: unknown, path = ""): JsonDifference[] {
  const bothObjects = [expected, actual].every(
    (value) => typeof value === "object" && value !== null && !Array.isArray(value),
  );
  if (bothObjects) {
    const [e, a] = [expected as Record<string, unknown>, actual as Record<string, unknown>];
    const keys = [...new Set([...Object.keys(e), ...Object.keys(a)])];
    return keys.flatMap((key) =>
      jsonDifferences(
        Object.hasOwn(e, key) ? e[key] : undefined,
        Object.hasOwn(a, key) ? a[key] : undefined,
        path ? `${path}.${key}` : key,
      ),
    );
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const length = Math.max(expected.length, actual.length);
    return Array.from({ length }, (_, index) =>
      jsonDifferences(expected[index], actual[index], `${path}.${index}`),
    ).flat();
  }
  if (JSON.stringify(expected) === JSON.stringify(actual)) return [];
  return [{ path: path || "(document)", expected, actual }];
}

/**
 * The differences between two JSON values, one line per differing field:
 * `data.quantityOnHand: expected 12, got "12"`. Object key order does not count.
 */
export function diffJson(expected: unknown, actual: unknown): string[] {
  return jsonDifferences(expected, actual).map(
    (difference) =>
      `${difference.path}: expected ${show(difference.expected)}, got ${show(difference.actual)}`,
  );
}

/** The report as text for a terminal: one line per example, the diff or error under it. */
export function formatExampleReport(report: ExampleCheckReport): string {
  const lines: string[] = [];
  for (const result of report.results) {
    const name = result.example ? `${result.mapping} ${result.example}` : result.mapping;
    lines.push(`${result.passed ? "PASS" : "FAIL"} ${name}`);
    for (const line of result.diff) lines.push(`  ${line}`);
    if (result.error) {
      const { message } = result.error;
      lines.push(`  ${result.error.name}: ${message}`);
      for (const detail of result.error.details) {
        const line = detail.path === "$" ? detail.message : `${detail.path}: ${detail.message}`;
        // A vendor.json problem already names each field on its one line.
        if (!message.includes(line)) lines.push(`    ${detail.path}: ${detail.message}`);
      }
    }
  }
  lines.push(
    report.total === 0
      ? "No examples found."
      : `${report.total - report.failed} of ${report.total} example(s) passed${report.failed ? `, ${report.failed} failed` : ""}.`,
  );
  return lines.join("\n");
}
