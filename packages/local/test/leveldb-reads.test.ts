import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { readLevelDbThroughIterators } from "../src/leveldb-reads.ts";
import { tempDir } from "./harness.ts";

interface Level {
  open(): Promise<void>;
  close(): Promise<void>;
  put(key: string, value: unknown): Promise<void>;
  get(key: string, options?: Record<string, unknown>): Promise<unknown>;
  del(key: string): Promise<void>;
  snapshot(): { close(): Promise<void> };
  compactRange(start: string, end: string): Promise<void>;
}

/** classic-level as dynalite loads it. */
function classicLevel(): { new (path: string, options: Record<string, unknown>): Level; prototype: object } {
  const fromHere = createRequire(import.meta.url);
  const fromDynalite = createRequire(fromHere.resolve("dynalite"));
  const fromLevel = createRequire(fromDynalite.resolve("level"));
  return (fromLevel("classic-level") as { ClassicLevel: ReturnType<typeof classicLevel> }).ClassicLevel;
}

describe("dynalite on disk: point reads through an iterator (LevelDB 1.20, google/leveldb#320)", () => {
  it("answers get with the newest value, undefined when absent, and what a snapshot saw", async () => {
    readLevelDbThroughIterators();
    readLevelDbThroughIterators(); // idempotent
    const ClassicLevel = classicLevel();
    expect((ClassicLevel.prototype as { _get: { name: string } })._get.name).toBe("getThroughIterator");
    const dir = tempDir("dvss-leveldb-");
    const db = new ClassicLevel(dir, { valueEncoding: "json" });
    await db.open();
    try {
      await db.put("item-t~a/", { version: 1 });
      await db.put("item-t~b/", { version: 1 });
      await db.put("item-t~ab/", { version: 1 });
      const snapshot = db.snapshot();
      // Large values rewritten while a snapshot keeps the older ones, then compacted: the shape
      // of a hot canonical-state item under the chaos run.
      const padding = "x".repeat(300 * 1024);
      for (let version = 2; version <= 12; version++) await db.put("item-t~a/", { version, padding });
      await db.compactRange("item-t~", "item-t~\xff");
      expect(((await db.get("item-t~a/")) as { version: number }).version).toBe(12);
      expect(await db.get("item-t~a/", { snapshot })).toEqual({ version: 1 });
      // A key that is a prefix of another, and keys on either side, are not confused.
      expect(await db.get("item-t~ab/")).toEqual({ version: 1 });
      expect(await db.get("item-t~")).toBeUndefined();
      expect(await db.get("item-t~c/")).toBeUndefined();
      await db.del("item-t~b/");
      expect(await db.get("item-t~b/")).toBeUndefined();
      await snapshot.close();
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
