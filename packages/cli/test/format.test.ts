import { describe, expect, it } from "vitest";
import { mapBounded, parseDuration, parseSince, progressBar, table } from "../src/format.ts";
import { bufferIo } from "../src/io.ts";

describe("formatting", () => {
  it("aligns table columns by their visible width, colour codes included", () => {
    const coloured = "\u001b[31mopen\u001b[39m";

    const text = table(
      { color: false },
      ["id", "status", "note"],
      [
        ["a", coloured, "x"],
        ["bbbb", "resolved", "y"],
      ],
    );

    expect(text.split("\n")).toEqual([
      "id    status    note",
      `a     ${coloured}      x`,
      "bbbb  resolved  y",
    ]);
  });

  it("reads durations and --since values", () => {
    const now = Date.parse("2026-01-30T12:00:00Z");

    expect(parseDuration("24h")).toBe(86_400_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("0")).toBe(0);
    expect(() => parseDuration("soon")).toThrow("not a duration");
    expect(parseSince("2h", now).toISOString()).toBe("2026-01-30T10:00:00.000Z");
    expect(parseSince("2026-01-01T00:00:00Z", now).toISOString()).toBe("2026-01-01T00:00:00.000Z");
    expect(() => parseSince("yesterday", now)).toThrow("not an ISO date-time");
  });

  it("draws a progress bar only on a terminal", () => {
    const terminal = bufferIo({ errIsTTY: true });
    const piped = bufferIo({ errIsTTY: false });

    for (const io of [terminal, piped]) {
      const bar = progressBar(io, "replay", 4);
      bar.tick(4);
      bar.done();
    }

    expect(terminal.stderr()).toContain("replay [##############################] 4/4");
    expect(piped.stderr()).toBe("");
  });

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
