import { stripVTControlCharacters } from "node:util";
import { UsageError } from "@dvss/core/errors";
import { type Io, paint, type Style } from "./io.ts";

/** Display width of a cell, without colour codes. */
function width(text: string): number {
  return stripVTControlCharacters(text).length;
}

export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1))}…`;
}

/** Rows as aligned columns under a bold header; cells may carry colour. */
export function table(io: Pick<Io, "color">, headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(width(header), ...rows.map((row) => width(row[column] ?? ""))),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell + " ".repeat((widths[column] ?? 0) - width(cell)),
      )
      .join("  ")
      .trimEnd();
  return [paint(io, "bold", line(headers)), ...rows.map(line)].join("\n");
}

/** `label value` lines with the labels aligned. */
export function fields(io: Pick<Io, "color">, entries: [string, string | undefined][]): string {
  const present = entries.filter((entry): entry is [string, string] => entry[1] !== undefined);
  const labelWidth = Math.max(0, ...present.map(([label]) => label.length));
  return present
    .map(([label, value]) => `  ${paint(io, "dim", label.padEnd(labelWidth))}  ${value}`)
    .join("\n");
}

const STATUS_STYLES: Record<string, Style> = {
  NORMALIZED: "green",
  SUCCEEDED: "green",
  succeeded: "green",
  resolved: "green",
  unchanged: "green",
  started: "green",
  published: "green",
  RECEIVED: "yellow",
  RUNNING: "yellow",
  running: "yellow",
  redriven: "yellow",
  changed: "yellow",
  new: "yellow",
  skipped: "dim",
  FAILED_NORMALIZE: "red",
  QUARANTINED: "red",
  FAILED: "red",
  failed: "red",
  caught: "red",
  open: "red",
  refused: "red",
  not_found: "red",
  would_fail: "red",
  quarantined: "red",
  TIMED_OUT: "red",
  EXECUTION_FAILED: "red",
};

/** A status word in the colour operators expect (green done, yellow in progress, red needs a look). */
export function status(io: Pick<Io, "color">, value: string): string {
  const style = STATUS_STYLES[value];
  return style ? paint(io, style, value) : value;
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `24h`, `7d`, `1h30m` → milliseconds; `0` is zero. */
export function parseDuration(text: string, what = "duration"): number {
  if (text.trim() === "0") return 0;
  const parts = [...text.trim().matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  const consumed = parts.map((part) => part[0]).join("");
  if (parts.length === 0 || consumed !== text.trim()) {
    throw new UsageError(`${what} "${text}" is not a duration (e.g. 30m, 24h, 7d)`);
  }
  return parts.reduce((sum, part) => sum + Number(part[1]) * (UNITS[part[2] ?? "ms"] ?? 1), 0);
}

export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}m`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)}h`;
  return `${(ms / 86_400_000).toFixed(1)}d`;
}

/** An ISO date-time (anything Date.parse reads) → Date; a UsageError naming the flag otherwise. */
export function parseInstant(text: string, flag: string): Date {
  const time = Date.parse(text);
  if (!Number.isFinite(time))
    throw new UsageError(`${flag} "${text}" is not an ISO date-time (e.g. 2026-01-30T00:00:00Z)`);
  return new Date(time);
}

/** `--since`: an ISO date-time, or a duration back from now (`24h`). */
export function parseSince(text: string, now = Date.now()): Date {
  return /^(\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/.test(text.trim())
    ? new Date(now - parseDuration(text, "--since"))
    : parseInstant(text, "--since");
}

/**
 * A progress bar on stderr, redrawn in place; only on a terminal (scripts and CI logs get none).
 * `done()` clears it.
 */
export function progressBar(io: Io, label: string, total: number) {
  const enabled = io.errIsTTY && total > 1;
  const started = Date.now();
  let last = 0;
  const draw = (current: number, force = false) => {
    if (!enabled) return;
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    const columns = 30;
    const filled = Math.round((current / total) * columns);
    const elapsed = now - started;
    const eta = current > 0 ? formatDuration((elapsed / current) * (total - current)) : "?";
    io.err(
      `\r${label} [${"#".repeat(filled)}${".".repeat(columns - filled)}] ${current}/${total} eta ${eta} `,
    );
  };
  return {
    tick(current: number) {
      draw(current, current === total);
    },
    done() {
      if (enabled) io.err(`\r${" ".repeat(label.length + 60)}\r`);
    },
  };
}

/**
 * What a key rotation prints, for a vendor's key and a consumer's alike: the new key (shown once),
 * the warning to pass it on safely, and when the earlier keys stop working.
 */
export function rotatedKeyReport(
  io: Pick<Io, "color">,
  rotated: { apiKey: string; previousKeys: readonly { expiresAt: string }[] },
  text: { heading: string; owner: string; warning: string },
): string {
  const stops = [...new Set(rotated.previousKeys.map((key) => key.expiresAt))];
  return [
    `${text.heading}: ${paint(io, "bold", rotated.apiKey)}`,
    paint(io, "yellow", text.warning),
    rotated.previousKeys.length === 0
      ? `The ${text.owner} had no other valid key.`
      : `Its ${rotated.previousKeys.length} earlier key(s) stop working at: ${stops.join(", ")}.`,
  ].join("\n");
}
