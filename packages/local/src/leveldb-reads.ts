import { createRequire } from "node:module";

/**
 * dynalite on disk keeps its tables in LevelDB through `classic-level`, which bundles LevelDB 1.20.
 * That version has a compaction bug (google/leveldb#320, fixed upstream in 1.21 by
 * AddBoundaryInputs): when several versions of one key survive a compaction (a snapshot, such as
 * an open iterator of a Query or Scan, still needs the older ones), they can be split across two
 * files of one level; a later compaction may then move the file with the newer versions one level
 * down and leave the older ones above it. A point read (LevelDB's Get) stops at the first level
 * holding the key and answers with the older value, for as long as the two files stay apart (in
 * the chaos runs, 5-30 s). Hot canonical-state items are large (a few of them fill a 2 MB table
 * file) and rewritten many times a second while queries run, which is exactly that case: GetItem
 * returned an old version and the compare-and-swap on `version` then succeeded against it.
 *
 * An iterator merges every level and the memtables by sequence number, so it always finds the
 * newest version whichever level holds it. Here classic-level's point read is answered by a
 * one-key iterator instead: dynalite's GetItem, and the read that its PutItem, UpdateItem and
 * DeleteItem make under their per-key lock before checking a condition, see the latest write.
 * dynalite in memory (memory-level) is not affected and left as it is.
 */

interface ClassicIterator {
  next(): Promise<unknown>;
  close(): Promise<void>;
}

interface ClassicLevelPrototype {
  _get(key: unknown, options: Record<string, unknown>): Promise<unknown>;
  values(options: Record<string, unknown>): ClassicIterator;
}

const PATCHED = Symbol.for("dvss.leveldb-reads");

/** The `classic-level` that dynalite loads (through `level`), not a copy of our own. */
function classicLevelPrototype(): ClassicLevelPrototype & { [PATCHED]?: true } {
  const fromHere = createRequire(import.meta.url);
  const fromDynalite = createRequire(fromHere.resolve("dynalite"));
  const fromLevel = createRequire(fromDynalite.resolve("level"));
  const { ClassicLevel } = fromLevel("classic-level") as {
    ClassicLevel: { prototype: ClassicLevelPrototype };
  };
  return ClassicLevel.prototype;
}

/** Makes every point read of classic-level (in this thread) go through an iterator. Idempotent. */
export function readLevelDbThroughIterators(): void {
  const prototype = classicLevelPrototype();
  if (prototype[PATCHED]) return;
  prototype._get = async function getThroughIterator(this: ClassicLevelPrototype, key, options) {
    // `key` is already encoded in the format classic-level takes (utf8 string or bytes), and
    // options.keyEncoding / valueEncoding name those formats: the iterator keeps them as they are.
    const iterator = this.values({
      gte: key,
      lte: key,
      limit: 1,
      keyEncoding: options.keyEncoding,
      valueEncoding: options.valueEncoding,
      fillCache: options.fillCache !== false,
      ...(options.snapshot !== undefined && { snapshot: options.snapshot }),
    });
    try {
      return await iterator.next();
    } finally {
      await iterator.close();
    }
  };
  prototype[PATCHED] = true;
}
