import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createEntities } from "@dvss/core/entities/index";
import { importCrosswalk } from "@dvss/core/ops/crosswalk";
import { REPO_ROOT } from "./lambda.ts";
import type { RunningStores } from "./stores.ts";

/** A bundled crosswalk file refused at start: the others still load. */
export interface RefusedCrosswalk {
  file: string;
  message: string;
}

/**
 * Imports every `<vendorId>.json` of the bundled crosswalk folder (default schemas/crosswalk) as
 * `dvss crosswalk import` does, with the same validation: an entry already so is left as it is,
 * so a restart adds no versions. A file that is refused (its vendorId not its name, a key mapped
 * twice) is named in one line and skipped.
 */
export async function loadCrosswalkFiles(
  tables: RunningStores["tables"],
  dir: string,
): Promise<RefusedCrosswalk[]> {
  if (!existsSync(dir)) return [];
  const refused: RefusedCrosswalk[] = [];
  const dynamodb = new DynamoDBClient({});
  try {
    const context = { entities: createEntities(dynamodb, tables), now: Date.now };
    for (const name of readdirSync(dir)
      .filter((file) => file.endsWith(".json"))
      .sort()) {
      const label = relative(REPO_ROOT, join(dir, name));
      try {
        const text = readFileSync(join(dir, name), "utf8");
        const vendorId = (JSON.parse(text) as { vendorId?: unknown }).vendorId;
        if (`${vendorId}.json` !== name)
          throw new Error(`its vendorId (${String(vendorId)}) is not its name`);
        await importCrosswalk(context, text, label, "bundled");
      } catch (error) {
        refused.push({ file: label, message: (error as Error).message });
      }
    }
  } finally {
    dynamodb.destroy();
  }
  return refused;
}
