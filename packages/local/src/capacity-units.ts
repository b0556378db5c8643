import { createRequire } from "node:module";
import { isDeepStrictEqual } from "node:util";

/**
 * What DynamoDB would bill for the requests dynalite answers, in read and write capacity units,
 * by the rules of on-demand capacity: a write costs 1 unit per KB (rounded up) of the larger of the
 * item before and after it, plus, for each global secondary index, what the write does to the
 * index's entry (a put or a delete of it, both when its key changes, an update when a projected
 * attribute changes, nothing otherwise); a read costs 1 unit per 4 KB, half that when eventually
 * consistent. Counted where the stores answer, so `npm run bench` and the cost model's test see
 * what an event costs in units from the items it really writes, not from sizes estimated by hand.
 */

/** The operations under which the stores' counts hold capacity units instead of calls. */
const UNIT_OPERATIONS = { write: "WriteUnits", read: "ReadUnits" } as const;

/** Whether a count, keyed `[<service>] <operation> <table>`, holds capacity units rather than calls. */
export function countsUnits(kind: string): boolean {
  const words = kind.split(" ");
  const operation = words[0] === "DynamoDB" ? words[1] : words[0];
  return operation === UNIT_OPERATIONS.write || operation === UNIT_OPERATIONS.read;
}

/** A DynamoDB item as dynalite stores it: attribute name → typed value (`{"S": "…"}`). */
type StoredItem = Record<string, unknown>;

interface KeyElement {
  AttributeName: string;
  KeyType: "HASH" | "RANGE";
}

/** The part of a table's description the units depend on (dynalite keeps the CreateTable input). */
export interface TableShape {
  TableName: string;
  KeySchema: KeyElement[];
  GlobalSecondaryIndexes?: {
    IndexName: string;
    KeySchema: KeyElement[];
    Projection: { ProjectionType?: "ALL" | "KEYS_ONLY" | "INCLUDE"; NonKeyAttributes?: string[] };
  }[];
}

export type ItemSize = (item: StoredItem) => number;

const KB = 1024;

function writeUnitsOf(size: number): number {
  return Math.max(1, Math.ceil(size / KB));
}

/**
 * Whether two stored values are the same. Through JSON: dynalite's items come from requests and
 * from LevelDB, whose objects do not share prototypes, which a deep strict comparison would count.
 */
function sameValue(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
}

/** The entry an item has in an index: its key and projected attributes; none without the index's key. */
function indexEntry(
  item: StoredItem | undefined,
  index: NonNullable<TableShape["GlobalSecondaryIndexes"]>[number],
  tableKey: readonly string[],
): StoredItem | undefined {
  if (!item) return undefined;
  const indexKey = index.KeySchema.map((key) => key.AttributeName);
  if (indexKey.some((name) => item[name] === undefined)) return undefined;
  const { ProjectionType = "ALL", NonKeyAttributes = [] } = index.Projection;
  if (ProjectionType === "ALL") return item;
  const names = [...tableKey, ...indexKey, ...(ProjectionType === "INCLUDE" ? NonKeyAttributes : [])];
  return Object.fromEntries(
    names.filter((name) => item[name] !== undefined).map((name) => [name, item[name]]),
  );
}

/** Write units of one write that turned `before` (absent: a new item) into `after` (absent: deleted). */
export function writeUnits(
  table: TableShape,
  before: StoredItem | undefined,
  after: StoredItem | undefined,
  size: ItemSize,
): number {
  const itemUnits = (item: StoredItem | undefined) => (item ? writeUnitsOf(size(item)) : 0);
  let units = Math.max(1, itemUnits(before), itemUnits(after));
  const tableKey = table.KeySchema.map((key) => key.AttributeName);
  for (const index of table.GlobalSecondaryIndexes ?? []) {
    const was = indexEntry(before, index, tableKey);
    const is = indexEntry(after, index, tableKey);
    if (!was || !is) {
      units += itemUnits(was) + itemUnits(is);
      continue;
    }
    const keyChanged = index.KeySchema.some(
      (key) => !sameValue(was[key.AttributeName], is[key.AttributeName]),
    );
    if (keyChanged) units += itemUnits(was) + itemUnits(is);
    else if (!sameValue(was, is)) units += Math.max(itemUnits(was), itemUnits(is));
  }
  return units;
}

/** Read units of one GetItem of `item` (absent: not found, still billed). */
export function readUnits(item: StoredItem | undefined, consistent: boolean, size: ItemSize): number {
  const units = Math.max(1, Math.ceil((item ? size(item) : 0) / (4 * KB)));
  return consistent ? units : units / 2;
}

interface DynaliteDb {
  itemSize: ItemSize;
  updateIndexes(
    store: unknown,
    table: TableShape,
    existing: StoredItem | undefined,
    item: StoredItem | undefined,
    cb: (err?: Error) => void,
  ): void;
  addConsumedCapacity(
    data: { TableName: string; ConsistentRead?: boolean },
    isRead: boolean,
    first?: StoredItem,
    second?: StoredItem,
  ): unknown;
}

/**
 * Has dynalite (in this thread) report the units of every item write and GetItem it makes, with
 * the table's name: `count(kind, units)` with kind `WriteUnits <table>` or `ReadUnits <table>`.
 * Every item write passes through dynalite's index maintenance with the item before and after,
 * and every GetItem through its capacity report with the item read. Idempotent.
 */
export function countDynaliteCapacity(count: (kind: string, amount: number) => void): void {
  const fromHere = createRequire(import.meta.url);
  const db = createRequire(fromHere.resolve("dynalite"))("./db") as DynaliteDb & { __dvssUnits?: true };
  if (db.__dvssUnits) return;
  db.__dvssUnits = true;
  const { updateIndexes, addConsumedCapacity, itemSize } = db;
  db.updateIndexes = (store, table, existing, item, cb) => {
    if (existing || item)
      count(`${UNIT_OPERATIONS.write} ${table.TableName}`, writeUnits(table, existing, item, itemSize));
    updateIndexes(store, table, existing, item, cb);
  };
  db.addConsumedCapacity = (data, isRead, first, second) => {
    if (isRead)
      count(
        `${UNIT_OPERATIONS.read} ${data.TableName}`,
        readUnits(first, data.ConsistentRead === true, itemSize),
      );
    return addConsumedCapacity(data, isRead, first, second);
  };
}
