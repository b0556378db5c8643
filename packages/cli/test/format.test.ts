import { describe, expect, it } from "vitest";
import { parseDuration, parseSince, progressBar, table } from "../src/format.ts";
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
});
