import {
  type CrosswalkEntry,
  type CrosswalkEntryInput,
  entryKey,
  MATCH_KINDS,
  MAX_ENTRY_HISTORY,
  type MatchKind,
  parseCrosswalkFile,
  validateCrosswalkEntries,
} from "../crosswalk.ts";
import { isConditionalCheckFailed } from "../entities/conditions.ts";
import type { CrosswalkItem, Entities } from "../entities/index.ts";
import { NotFoundError, OperationRefusedError, UsageError } from "../errors.ts";
import type { OpsContext } from "./context.ts";

/** A stored entry; `canonicalId` absent once removed (its history stays). */
export type StoredCrosswalkEntry = Omit<CrosswalkEntry, "canonicalId"> & { canonicalId?: string };

const entryOf = (item: CrosswalkItem): StoredCrosswalkEntry => ({
  vendorId: item.vendorId,
  kind: item.kind,
  vendorKey: item.vendorKey,
  ...(item.canonicalId !== undefined && { canonicalId: item.canonicalId }),
  ...(item.unit !== undefined && { unit: item.unit }),
  ...(item.vendorUnit !== undefined && { vendorUnit: item.vendorUnit }),
  ...(item.factor !== undefined && { factor: item.factor }),
  version: item.version,
  updatedAt: item.updatedAt,
  updatedBy: item.updatedBy,
  history: item.history,
});

/** A vendor's whole crosswalk, removed entries included, by entryKey: one Query (paged). */
export async function readCrosswalk(
  entities: Pick<Entities, "crosswalk">,
  vendorId: string,
): Promise<Map<string, StoredCrosswalkEntry>> {
  const { data } = await entities.crosswalk.query.byVendor({ vendorId }).go({ pages: "all" });
  return new Map(data.map((item) => [entryKey(item.kind, item.vendorKey), entryOf(item)]));
}

const active = (table: ReadonlyMap<string, StoredCrosswalkEntry>) =>
  new Map([...table].filter((pair): pair is [string, CrosswalkEntry] => pair[1].canonicalId !== undefined));

const sameTarget = (stored: StoredCrosswalkEntry | undefined, input: CrosswalkEntryInput) =>
  stored?.canonicalId === input.canonicalId &&
  stored.unit === input.unit &&
  stored.vendorUnit === input.vendorUnit &&
  stored.factor === input.factor;

async function writeEntry(
  entities: Pick<Entities, "crosswalk">,
  vendorId: string,
  stored: StoredCrosswalkEntry | undefined,
  change: { kind: MatchKind; vendorKey: string } & Partial<CrosswalkEntryInput>,
  by: string,
  at: string,
): Promise<StoredCrosswalkEntry> {
  const version = (stored?.version ?? 0) + 1;
  const history = [
    ...(stored?.history ?? []),
    { version, at, by, ...(change.canonicalId !== undefined && { canonicalId: change.canonicalId }) },
  ].slice(-MAX_ENTRY_HISTORY);
  const item = {
    vendorId,
    kind: change.kind,
    vendorKey: change.vendorKey,
    ...(change.canonicalId !== undefined && { canonicalId: change.canonicalId }),
    ...(change.unit !== undefined && { unit: change.unit }),
    ...(change.vendorUnit !== undefined && { vendorUnit: change.vendorUnit }),
    ...(change.factor !== undefined && { factor: change.factor }),
    version,
    updatedAt: at,
    updatedBy: by,
    history,
  };
  // Each change is one version: a write that raced another change of the entry is refused.
  try {
    if (stored) {
      await entities.crosswalk
        .put(item)
        .where(({ version }, { eq }) => eq(version, stored.version))
        .go();
    } else {
      await entities.crosswalk.create(item).go();
    }
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    throw new OperationRefusedError(
      `${vendorId} ${change.kind} ${change.vendorKey} changed meanwhile (another write): read it again and retry`,
    );
  }
  return entryOf(item as CrosswalkItem);
}

export interface CrosswalkWriteResult {
  vendorId: string;
  /** Entries written (new or changed). */
  written: number;
  /** Entries already so. */
  unchanged: number;
}

/**
 * Imports a crosswalk file's entries (core/crosswalk.ts validates them): each entry new or changed
 * gets a new version with who and when; a key the table already maps to another canonical id is
 * refused, naming both ids (`crosswalk add` changes an entry).
 */
export async function importCrosswalk(
  context: Pick<OpsContext, "entities" | "now">,
  text: string,
  label: string,
  by: string,
): Promise<CrosswalkWriteResult> {
  const file = parseCrosswalkFile(text, label);
  const table = await readCrosswalk(context.entities, file.vendorId);
  const entries = validateCrosswalkEntries(file.vendorId, file.entries, active(table));
  const at = new Date(context.now()).toISOString();
  let written = 0;
  for (const entry of entries) {
    const stored = table.get(entryKey(entry.kind, entry.vendorKey));
    if (sameTarget(stored, entry)) continue;
    await writeEntry(context.entities, file.vendorId, stored, entry, by, at);
    written++;
  }
  return { vendorId: file.vendorId, written, unchanged: entries.length - written };
}

/** Adds an entry, or changes the canonical id (or unit) of an existing one: a new version. */
export async function addCrosswalkEntry(
  context: Pick<OpsContext, "entities" | "now">,
  vendorId: string,
  input: Record<string, unknown>,
  by: string,
): Promise<StoredCrosswalkEntry> {
  const table = await readCrosswalk(context.entities, vendorId);
  const [entry] = validateCrosswalkEntries(vendorId, [input], active(table), { replace: true }) as [
    CrosswalkEntryInput,
  ];
  const stored = table.get(entryKey(entry.kind, entry.vendorKey));
  if (stored && sameTarget(stored, entry)) return stored;
  return writeEntry(context.entities, vendorId, stored, entry, by, new Date(context.now()).toISOString());
}

/** Removes an entry: it keeps its history, without a canonical id. */
export async function removeCrosswalkEntry(
  context: Pick<OpsContext, "entities" | "now">,
  vendorId: string,
  kind: string,
  vendorKey: string,
  by: string,
): Promise<StoredCrosswalkEntry> {
  if (!(MATCH_KINDS as readonly string[]).includes(kind)) {
    throw new UsageError(`kind must be one of ${MATCH_KINDS.join(" ")}, not ${kind}`);
  }
  const table = await readCrosswalk(context.entities, vendorId);
  const stored = table.get(entryKey(kind as MatchKind, vendorKey));
  if (stored?.canonicalId === undefined) {
    throw new NotFoundError(`${vendorId} has no crosswalk entry for ${kind} ${vendorKey}`);
  }
  const at = new Date(context.now()).toISOString();
  return writeEntry(context.entities, vendorId, stored, { kind: kind as MatchKind, vendorKey }, by, at);
}

/** The entries in force, one vendor's or every registered vendor's, by vendor, kind and key. */
export async function listCrosswalk(
  context: Pick<OpsContext, "entities">,
  vendorId?: string,
): Promise<CrosswalkEntry[]> {
  const vendorIds = vendorId
    ? [vendorId]
    : (await context.entities.vendors.query.all({}).go({ pages: "all" })).data.map(
        (vendor) => vendor.vendorId,
      );
  const tables = await Promise.all(vendorIds.map((vendorId) => readCrosswalk(context.entities, vendorId)));
  return tables
    .flatMap((table) => [...active(table).values()])
    .sort(
      (a, b) =>
        a.vendorId.localeCompare(b.vendorId) ||
        a.kind.localeCompare(b.kind) ||
        a.vendorKey.localeCompare(b.vendorKey),
    );
}
