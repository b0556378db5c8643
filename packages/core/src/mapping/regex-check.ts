import type { FieldIssue } from "../errors.ts";

/**
 * A static look at the regular expressions of a vendor definition, for publish and check time:
 * a group that repeats without bound, holds a repetition of its own and nothing that separates
 * one iteration from the next (`(a+)+`, `(\w+\s?)*`, `(x*){2,}`) can backtrack exponentially
 * on a near-miss input. Such a regex is refused before it is published. The check is a
 * heuristic (an ambiguous alternation such as `(a|aa)+` passes it): at run time the
 * evaluator's wall-clock bound is what holds.
 */

interface Group {
  start: number;
  /** Somewhere inside, a repetition of variable length (`+`, `*`, `?`, `{1,3}`). */
  varies: boolean;
  /** The alternative being read has a literal that every iteration must match (a separator). */
  alternativeFixed: boolean;
  /** Every alternative read so far has one. */
  fixed: boolean;
  /** A lookahead or lookbehind: matches no characters. */
  lookaround: boolean;
}

interface Quantifier {
  length: number;
  min: number;
  /** No upper bound. */
  unbounded: boolean;
  /** Matches a variable number of times. */
  varies: boolean;
}

/** Reads a quantifier (and its lazy `?`) at `index`, or undefined if none is there. */
function quantifierAt(source: string, index: number): Quantifier | undefined {
  const char = source[index];
  let quantifier: Quantifier | undefined;
  if (char === "*") quantifier = { length: 1, min: 0, unbounded: true, varies: true };
  else if (char === "+") quantifier = { length: 1, min: 1, unbounded: true, varies: true };
  else if (char === "?") quantifier = { length: 1, min: 0, unbounded: false, varies: true };
  else if (char === "{") {
    const match = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(index));
    if (!match) return undefined;
    const min = Number(match[1]);
    const unbounded = match[2] !== undefined && match[3] === "";
    const max = match[2] === undefined ? min : Number(match[3]);
    quantifier = { length: match[0].length, min, unbounded, varies: unbounded || max > min };
  }
  if (quantifier && source[index + quantifier.length] === "?") quantifier.length += 1;
  return quantifier;
}

// Escapes that stand for a class or an assertion, not for one literal character.
const CLASS_ESCAPES = new Set([..."dDwWsSbBpPk"]);

/**
 * The first group of a regex source that repeats without bound while holding a repetition of
 * variable length and no literal separating its iterations, as the group's text (`(a+)+`,
 * `(\w+\s?)*`, `(\d{1,3})+`), or undefined. `(-[a-z]+)*` and `(\d+,)*` pass: each iteration
 * starts or ends with a literal the others cannot take.
 */
export function nestedRepetition(source: string): string | undefined {
  const stack: Group[] = [];
  let index = 0;
  while (index < source.length) {
    const char = source[index] as string;
    let literal = false;
    if (char === "\\") {
      const escaped = source[index + 1] ?? "";
      literal = !CLASS_ESCAPES.has(escaped);
      index += 2;
      // \p{...}, \k<...>, \u{...}: skip the braces with the escape.
      if ((escaped === "p" || escaped === "P" || escaped === "u") && source[index] === "{") {
        index = source.indexOf("}", index) + 1 || source.length;
      } else if (escaped === "k" && source[index] === "<") {
        index = source.indexOf(">", index) + 1 || source.length;
      }
      if (escaped === "b" || escaped === "B") continue;
    } else if (char === "[") {
      // A character class: one item, whatever it holds.
      index += 1;
      while (index < source.length && source[index] !== "]") index += source[index] === "\\" ? 2 : 1;
      index += 1;
    } else if (char === "(") {
      const prefix = /^\((\?(<?[=!]|:|<[^>]*>))?/.exec(source.slice(index))?.[0] ?? "(";
      stack.push({
        start: index,
        varies: false,
        alternativeFixed: false,
        fixed: true,
        lookaround: /[=!]/.test(prefix),
      });
      index += prefix.length;
      continue;
    } else if (char === "|") {
      const group = stack.at(-1);
      if (group) {
        group.fixed &&= group.alternativeFixed;
        group.alternativeFixed = false;
      }
      index += 1;
      continue;
    } else if (char === ")") {
      const group = stack.pop();
      index += 1;
      if (!group) continue;
      group.fixed &&= group.alternativeFixed;
      const quantifier = quantifierAt(source, index);
      if (quantifier?.unbounded && group.varies && !group.fixed) {
        return source.slice(group.start, index + quantifier.length);
      }
      const enclosing = stack.at(-1);
      if (enclosing) {
        if (group.varies || quantifier?.varies) enclosing.varies = true;
        const once = !quantifier || (quantifier.min >= 1 && !quantifier.varies);
        if (group.fixed && !group.lookaround && once) enclosing.alternativeFixed = true;
      }
      if (quantifier) index += quantifier.length;
      continue;
    } else if (char === "^" || char === "$") {
      index += 1;
      continue;
    } else {
      literal = char !== ".";
      index += 1;
    }
    // After an atom: its quantifier, if any.
    const quantifier = quantifierAt(source, index);
    const group = stack.at(-1);
    if (group) {
      if (quantifier?.varies) group.varies = true;
      if (literal && (!quantifier || (quantifier.min >= 1 && !quantifier.varies)))
        group.alternativeFixed = true;
    }
    if (quantifier) index += quantifier.length;
  }
  return undefined;
}

const describe = (pattern: string, nested: string) =>
  `/${pattern}/ repeats ${nested}, a repetition inside a repetition: it can take exponential time on a near-miss input; rewrite it without the nesting`;

/** The mapping's regex literals (JSONata AST nodes of type "regex") that repeat a repetition. */
export function mappingRegexIssues(ast: unknown): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
    } else if (typeof node === "object" && node !== null) {
      const { type, value, position } = node as { type?: unknown; value?: unknown; position?: number };
      if (type === "regex" && value instanceof RegExp) {
        const nested = nestedRepetition(value.source);
        if (nested) {
          const where = position === undefined ? "" : ` (position ${position})`;
          issues.push({ path: "mapping", message: `${describe(value.source, nested)}${where}` });
        }
      }
      for (const child of Object.values(node)) if (typeof child === "object") visit(child);
    }
  };
  visit(ast);
  return issues;
}

// Keywords whose values are data, not schemas: a "pattern" key inside them is not a regex.
const DATA_KEYWORDS = new Set(["const", "enum", "default", "examples"]);

/** The payload schema's `pattern` and `patternProperties` regexes that repeat a repetition. */
export function schemaRegexIssues(schema: unknown, path = "payloadSchema"): FieldIssue[] {
  if (Array.isArray(schema))
    return schema.flatMap((item, index) => schemaRegexIssues(item, `${path}.${index}`));
  if (typeof schema !== "object" || schema === null) return [];
  const issues: FieldIssue[] = [];
  for (const [key, value] of Object.entries(schema)) {
    if (DATA_KEYWORDS.has(key)) continue;
    if (key === "pattern" && typeof value === "string") {
      const nested = nestedRepetition(value);
      if (nested) issues.push({ path: `${path}.pattern`, message: describe(value, nested) });
    } else if (key === "patternProperties" && typeof value === "object" && value !== null) {
      for (const pattern of Object.keys(value)) {
        const nested = nestedRepetition(pattern);
        if (nested) issues.push({ path: `${path}.patternProperties`, message: describe(pattern, nested) });
      }
      issues.push(...schemaRegexIssues(value, `${path}.patternProperties`));
    } else {
      issues.push(...schemaRegexIssues(value, `${path}.${key}`));
    }
  }
  return issues;
}
