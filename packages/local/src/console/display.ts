/** How the console shows values that are not plain text: nested JSON strings and raw bodies. */

/** JSON strings inside strings go this deep at most (a Cause holds two levels). */
const MAX_DEPTH = 8;

/**
 * A value with every string that holds a JSON object or array replaced by what it holds, at any
 * depth: a Step Functions Cause is a JSON string whose errorMessage is one too, escaped once more
 * at each level when printed. Display only; any other string is kept as it is.
 */
export function decodeNested(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) return value;
  if (typeof value === "string") {
    const text = value.trim();
    if (!(text.startsWith("{") && text.endsWith("}")) && !(text.startsWith("[") && text.endsWith("]"))) {
      return value;
    }
    try {
      return decodeNested(JSON.parse(text), depth + 1);
    } catch {
      return value;
    }
  }
  if (Array.isArray(value)) return value.map((item) => decodeNested(item, depth + 1));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, decodeNested(item, depth + 1)]),
    );
  }
  return value;
}

/** A value as indented JSON for a <pre>, nested JSON strings decoded, cut at `limit` characters. */
export function displayJson(value: unknown, limit = 20_000): string {
  const decoded = decodeNested(value);
  const text = typeof decoded === "string" ? decoded : (JSON.stringify(decoded, null, 2) ?? String(decoded));
  return text.length > limit ? `${text.slice(0, limit)}\n… (truncated)` : text;
}

/** Bytes of a binary-looking body shown as a hex dump; the rest is left to `dvss status --raw`. */
export const HEX_DUMP_BYTES = 16 * 1024;

export type RawBodyView =
  | { kind: "text"; bytes: number; text: string }
  | { kind: "binary"; bytes: number; why: string; hex: string; shown: number };

// C0 controls other than tab, LF and CR, and DEL: no text body holds them.
// biome-ignore lint/suspicious/noControlCharactersInRegex: they are what this looks for
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * A raw body as the console shows it: the text, when it is valid UTF-8 without control
 * characters; otherwise a hex dump of its first HEX_DUMP_BYTES bytes, saying why.
 */
export function rawBodyView(body: Uint8Array): RawBodyView {
  let text: string | undefined;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    return binary(body, "not valid UTF-8");
  }
  if (CONTROL.test(text)) return binary(body, "holds control characters");
  return { kind: "text", bytes: body.length, text };
}

function binary(body: Uint8Array, why: string): RawBodyView {
  const shown = Math.min(body.length, HEX_DUMP_BYTES);
  return { kind: "binary", bytes: body.length, why, hex: hexDump(body.subarray(0, shown)), shown };
}

/** 16 bytes a line: offset, hex, and the printable ASCII ones ('.' for the rest). */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += 16) {
    const row = [...bytes.subarray(offset, offset + 16)];
    const hex = row.map((byte) => byte.toString(16).padStart(2, "0")).join(" ");
    const ascii = row.map((byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : ".")).join("");
    lines.push(`${offset.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines.join("\n");
}
