import { describe, expect, it } from "vitest";
import { mapBounded } from "../src/ops/concurrency.ts";

describe("bounded concurrency of operations", () => {
  it("runs at most the given number of tasks at once and keeps the input order", async () => {
    let running = 0;
    let most = 0;

    const results = await mapBounded([5, 1, 4, 2, 3], 2, async (value) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setImmediate(resolve));
      running -= 1;
      return value * 10;
    });

    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });
});
