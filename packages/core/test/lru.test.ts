import { describe, expect, it } from "vitest";
import { cachedPromise, LruMap } from "../src/lru.ts";

describe("LruMap", () => {
  it("drops the least recently used entry past its bound, a read counting as a use", () => {
    const cache = new LruMap<string, number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    expect(cache.get("a")).toBe(1); // a is now the most recently used
    cache.set("c", 3);

    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe(1);
    expect(cache.get("c")).toBe(3);
  });

  it("replaces a key's value without growing", () => {
    const cache = new LruMap<string, number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    cache.set("a", 10);
    cache.set("c", 3);

    expect(cache.get("a")).toBe(10);
    expect(cache.get("b")).toBeUndefined();
  });
});

describe("cachedPromise", () => {
  it("loads once for concurrent callers and keeps what loaded", async () => {
    const cache = new LruMap<string, Promise<number>>(4);
    let loads = 0;
    const load = async () => ++loads;

    const [first, second] = await Promise.all([
      cachedPromise(cache, "k", load),
      cachedPromise(cache, "k", load),
    ]);

    expect([first, second, loads]).toEqual([1, 1, 1]);
    expect(await cachedPromise(cache, "k", load)).toBe(1);
  });

  it("does not keep a load that failed: the next call loads again", async () => {
    const cache = new LruMap<string, Promise<number>>(4);
    await expect(cachedPromise(cache, "k", () => Promise.reject(new Error("store down")))).rejects.toThrow(
      "store down",
    );

    expect(await cachedPromise(cache, "k", async () => 7)).toBe(7);
  });
});
