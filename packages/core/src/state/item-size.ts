/**
 * The size DynamoDB counts for an item, from the values the document client writes (AWS,
 * "Item sizes and formats"): attribute names and strings by their UTF-8 bytes, a number 1 byte per
 * two significant digits plus 1 (21 at most), a boolean or null 1 byte, a map or list 3 bytes plus
 * 1 per element, and the names and values inside. Rounded up where AWS says "approximately", so a
 * size found here is never below DynamoDB's. Undefined values are not written (removeUndefinedValues).
 */

/** DynamoDB's limit for one item, names and values together. */
export const DYNAMODB_ITEM_LIMIT_BYTES = 400 * 1024;

const utf8 = (text: string) => Buffer.byteLength(text, "utf8");

function numberBytes(value: number): number {
  const digits = String(Math.abs(value)).replace(/e.*$/i, "").replace(".", "").replace(/^0+/, "");
  return Math.min(21, Math.ceil(Math.max(1, digits.length) / 2) + 1);
}

/** The bytes of one attribute value. */
export function valueBytes(value: unknown): number {
  if (typeof value === "string") return utf8(value);
  if (typeof value === "number") return numberBytes(value);
  if (typeof value === "boolean" || value === null) return 1;
  if (Array.isArray(value)) {
    return value.reduce<number>((sum, element) => sum + 1 + valueBytes(element), 3);
  }
  if (value instanceof Uint8Array) return value.byteLength;
  if (typeof value === "object") {
    return Object.entries(value as Record<string, unknown>).reduce<number>(
      (sum, [name, element]) => (element === undefined ? sum : sum + 1 + utf8(name) + valueBytes(element)),
      3,
    );
  }
  return 0;
}

/** The bytes of an item: each attribute's name and value. */
export function itemBytes(item: Record<string, unknown>): number {
  return Object.entries(item).reduce(
    (sum, [name, value]) => (value === undefined ? sum : sum + utf8(name) + valueBytes(value)),
    0,
  );
}
