import { existsSync, statSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { NotFoundError, UsageError } from "../errors.ts";
import { checkExamples, type ExampleCheckReport } from "../mapping/check.ts";
import { EVENT_TYPE_PATTERN, VERSION_PATTERN } from "../mapping/definitions.ts";
import { readVersionDir } from "../mapping/fs-source.ts";
import { type PublishResult, publishMappingVersion } from "../mapping/store-source.ts";
import type { OpsContext } from "./context.ts";

export interface VersionIds {
  vendorId: string;
  eventType: string;
  version: string;
}

/** `<vendorId>/<eventType>/<version>/` → its ids, checked against the contract's patterns. */
export function versionIdsOf(versionDir: string): VersionIds {
  const dir = resolve(versionDir);
  const ids = {
    vendorId: basename(dirname(dirname(dir))),
    eventType: basename(dirname(dir)),
    version: basename(dir),
  };
  if (
    !/^[A-Za-z0-9._-]{1,64}$/.test(ids.vendorId) ||
    !EVENT_TYPE_PATTERN.test(ids.eventType) ||
    !VERSION_PATTERN.test(ids.version)
  ) {
    throw new UsageError(
      `${versionDir} is not a version folder <vendorId>/<eventType>/<version>/ ` +
        `(got vendorId "${ids.vendorId}", eventType "${ids.eventType}", version "${ids.version}")`,
    );
  }
  return ids;
}

export function requireDirectory(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new NotFoundError(`No folder ${dir}`);
}

export type PublishReport =
  | { published: false; ids: VersionIds; examples: ExampleCheckReport }
  | {
      published: true;
      ids: VersionIds;
      examples: ExampleCheckReport;
      result: PublishResult;
      /** The version events without a schemaVersion used before (bundled default or earlier publish). */
      previousEffective?: string;
    };

/**
 * `dvss mapping publish`: validates a version folder (schema and mapping compile, every golden
 * example passes) and publishes it as an immutable version that becomes the event type's active
 * one. Nothing is written unless every check passes.
 */
export async function publishVersionDir(context: OpsContext, versionDir: string): Promise<PublishReport> {
  requireDirectory(versionDir);
  const ids = versionIdsOf(versionDir);
  const definition = await readVersionDir(resolve(versionDir), ids);
  // Compiles the schema and the mapping, then runs every golden example: a failure is reported, not thrown.
  const examples = await checkExamples(resolve(versionDir));
  if (!examples.passed) return { published: false, ids, examples };

  const { bundled } = context.definitions();
  const [registered, bundledVendor] = await Promise.all([
    context.entities.vendors.get({ vendorId: ids.vendorId }).go(),
    bundled.loadVendor(ids.vendorId),
  ]);
  if (!registered.data && !bundledVendor) {
    throw new NotFoundError(
      `No vendor ${ids.vendorId}: add it first with \`dvss vendor add ${ids.vendorId}\``,
    );
  }
  let previousEffective: string | undefined;
  try {
    previousEffective = await context
      .mappingEngine()
      .selectVersion({ vendorId: ids.vendorId, eventType: ids.eventType });
  } catch {
    previousEffective = undefined; // No version was usable before: this one onboards the event type.
  }
  const result = await publishMappingVersion(context.entities, definition, {
    examples: examples.total,
    bundled,
  });
  return {
    published: true,
    ids,
    examples,
    result,
    ...(previousEffective !== undefined && { previousEffective }),
  };
}
