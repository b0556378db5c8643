import { createRequire } from "node:module";

/**
 * dynalite reads a table's description (its keys, indexes, status) from LevelDB at the start of
 * every request: each GetItem, PutItem and UpdateItem is one more LevelDB read before its item's,
 * and on disk every point read goes through an iterator (leveldb-reads.ts), the costliest part of
 * a request in this thread. A description changes only when a table is created, updated or
 * deleted, and always through the same table store: here that store keeps what it read, as JSON,
 * and forgets it on every write, so a request reads it from memory (a fresh copy each time:
 * dynalite changes the object it is given before writing it back).
 */

type Callback<T> = (error: Error | null | undefined, value?: T) => void;

/** dynalite's store of table descriptions: a LevelDB wrapper with prefixed keys. */
interface TableStore {
  get(key: string, callback: Callback<unknown>): void;
  put(key: string, value: unknown, callback: Callback<void>): void;
  del(key: string, callback: Callback<void>): void;
  batch(operations: { type: string; key: string }[], callback: Callback<void>): void;
}

interface DynaliteDb {
  create(options: unknown): { tableDb: TableStore };
  __dvssTables?: true;
}

/** Has one store keep the descriptions it read, until they are written. */
export function cacheTableStore(tables: TableStore): void {
  const described = new Map<string, string>();
  // Bumped by every write: a read that began before a write must not cache what it found.
  let generation = 0;
  const { get, put, del, batch } = tables;
  tables.get = (key, callback) => {
    const known = described.get(key);
    if (known !== undefined) {
      process.nextTick(callback, null, JSON.parse(known));
      return;
    }
    const began = generation;
    get.call(tables, key, (error, value) => {
      if (!error && value !== undefined && began === generation) described.set(key, JSON.stringify(value));
      callback(error, value);
    });
  };
  const forget = (keys: string[] | "all") => {
    generation += 1;
    if (keys === "all") described.clear();
    else for (const key of keys) described.delete(key);
  };
  // Forgotten before the write and again when it is done: no read in between caches the old one.
  const written = (keys: string[] | "all", callback: Callback<void>) => {
    forget(keys);
    return (error: Error | null | undefined) => {
      forget(keys);
      callback(error);
    };
  };
  tables.put = (key, value, callback) => put.call(tables, key, value, written([key], callback));
  tables.del = (key, callback) => del.call(tables, key, written([key], callback));
  tables.batch = (operations, callback) => batch.call(tables, operations, written("all", callback));
}

/** Has every dynalite store created from now on (in this thread) keep its table descriptions. Idempotent. */
export function cacheDynaliteTables(): void {
  const fromHere = createRequire(import.meta.url);
  const db = createRequire(fromHere.resolve("dynalite"))("./db") as DynaliteDb;
  if (db.__dvssTables) return;
  db.__dvssTables = true;
  const { create } = db;
  db.create = (options) => {
    const store = create(options);
    cacheTableStore(store.tableDb);
    return store;
  };
}
