import { describe, expect, it } from "vitest";
import { atMost, DRIFT_WAIT_MS } from "../src/lib/drift.ts";

describe("the Map task's wait for its drift writes", () => {
  it("takes the writes' end when it comes first", async () => {
    expect(await atMost(Promise.resolve("done"), DRIFT_WAIT_MS)).toBe("done");
  });

  it("gives up after the bound while a slow store still answers", async () => {
    let finished = false;
    const slow = new Promise<void>((resolve) =>
      setTimeout(() => {
        finished = true;
        resolve();
      }, 200),
    );
    const started = Date.now();

    const outcome = await atMost(slow, 20);

    expect(outcome).toBe("late");
    expect(Date.now() - started).toBeLessThan(150);
    expect(finished).toBe(false);
    await slow;
    expect(finished).toBe(true);
  });
});
