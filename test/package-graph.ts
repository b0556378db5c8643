import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseSync } from "rolldown/utils";

/**
 * The workspace packages' graph as their code draws it: every import (static, type-only,
 * re-export, or `import("...")` of a literal) of every .ts file under packages/<name>/src. Two
 * rules hold it simple (docs/architecture/README.md, "Packages"): no cycle between packages, and
 * each package names in its package.json `dependencies` every workspace package its code imports.
 */

export interface WorkspacePackage {
  /** `@dvss/core` */
  name: string;
  /** `packages/core`, from the repository root. */
  dir: string;
  /** Workspace packages listed in its package.json `dependencies`. */
  declared: string[];
  /** Its source files, from the repository root, with their text. */
  sources: { path: string; text: string }[];
}

export interface PackageImport {
  from: string;
  to: string;
  /** The file that imports, from the repository root. */
  path: string;
  specifier: string;
}

/**
 * The module specifiers a TypeScript file imports, in the order they stand: imports (type-only
 * too), re-exports, and `import()` of a string literal (one of an expression names no module).
 * The file is parsed (oxc, through rolldown), so comments and strings are not taken for imports.
 */
export function importsOf(path: string, text: string): string[] {
  const { module, errors } = parseSync(path, text, { lang: "ts" });
  if (errors.length > 0) {
    throw new Error(`${path}: its imports cannot be read (${errors.map((e) => e.message).join("; ")})`);
  }
  const found: { at: number; specifier: string }[] = [];
  for (const { moduleRequest } of module.staticImports) {
    found.push({ at: moduleRequest.start, specifier: moduleRequest.value });
  }
  for (const exported of module.staticExports.flatMap((entry) => entry.entries)) {
    if (exported.moduleRequest) {
      found.push({ at: exported.moduleRequest.start, specifier: exported.moduleRequest.value });
    }
  }
  for (const { moduleRequest } of module.dynamicImports) {
    const literal = /^(["'`])([^"'`$]*)\1$/.exec(text.slice(moduleRequest.start, moduleRequest.end));
    if (literal?.[2] !== undefined) found.push({ at: moduleRequest.start, specifier: literal[2] });
  }
  // An export of several names from one module is one entry per name: each module once per place.
  const unique = new Map(found.map((entry) => [`${entry.at}`, entry]));
  return [...unique.values()].sort((a, b) => a.at - b.at).map((entry) => entry.specifier);
}

/** The workspace package a specifier names (`@dvss/cli/ops/story` → `@dvss/cli`), if any. */
function packageOf(specifier: string, names: Set<string>): string | undefined {
  return [...names].find((name) => specifier === name || specifier.startsWith(`${name}/`));
}

/** Every import from one workspace package into another. */
export function packageImports(packages: WorkspacePackage[]): PackageImport[] {
  const names = new Set(packages.map((pkg) => pkg.name));
  const found: PackageImport[] = [];
  for (const pkg of packages) {
    for (const source of pkg.sources) {
      for (const specifier of importsOf(source.path, source.text)) {
        const to = packageOf(specifier, names);
        if (to && to !== pkg.name) found.push({ from: pkg.name, to, path: source.path, specifier });
      }
    }
  }
  return found;
}

/**
 * One line per package that imports a workspace package it does not declare, naming the first
 * file that does and how many more.
 */
export function undeclaredImports(packages: WorkspacePackage[], imports: PackageImport[]): string[] {
  const byName = new Map(packages.map((pkg) => [pkg.name, pkg]));
  const undeclared = new Map<string, PackageImport[]>();
  for (const entry of imports) {
    if (byName.get(entry.from)?.declared.includes(entry.to)) continue;
    const key = `${entry.from} ${entry.to}`;
    undeclared.set(key, [...(undeclared.get(key) ?? []), entry]);
  }
  return [...undeclared.values()].map((entries) => {
    const [first] = entries as [PackageImport];
    const more = entries.length > 1 ? ` (and ${entries.length - 1} more imports)` : "";
    return (
      `${byName.get(first.from)?.dir}/package.json does not list ${first.to} in its dependencies, ` +
      `yet ${first.path} imports ${first.specifier}${more}`
    );
  });
}

/**
 * One line per cycle between packages (each found once, from its smallest name), naming for
 * every step one file that makes it.
 */
export function packageCycles(imports: PackageImport[]): string[] {
  const edges = new Map<string, Map<string, PackageImport>>();
  for (const entry of imports) {
    const targets = edges.get(entry.from) ?? new Map<string, PackageImport>();
    if (!targets.has(entry.to)) targets.set(entry.to, entry);
    edges.set(entry.from, targets);
  }
  const cycles: string[] = [];
  const walk = (start: string, path: PackageImport[]) => {
    const at = path.at(-1)?.to ?? start;
    for (const [next, entry] of edges.get(at) ?? []) {
      if (next === start) {
        const steps = [...path, entry];
        cycles.push(
          `${[start, ...steps.map((step) => step.to)].join(" -> ")} (${steps
            .map((step) => `${step.path} imports ${step.specifier}`)
            .join("; ")})`,
        );
      } else if (next > start && !path.some((step) => step.to === next)) {
        walk(start, [...path, entry]);
      }
    }
  };
  for (const start of [...edges.keys()].sort()) walk(start, []);
  return cycles;
}

function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFilesUnder(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** The packages under `<root>/packages`, read from their package.json and src/. */
export function readWorkspace(root: string): WorkspacePackage[] {
  const packagesDir = join(root, "packages");
  return readdirSync(packagesDir)
    .filter((name) => statSync(join(packagesDir, name, "package.json"), { throwIfNoEntry: false }))
    .map((name) => {
      const dir = join(packagesDir, name);
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name: string;
        dependencies?: Record<string, string>;
      };
      const src = join(dir, "src");
      const files = statSync(src, { throwIfNoEntry: false }) ? tsFilesUnder(src) : [];
      return {
        name: manifest.name,
        dir: relative(root, dir),
        declared: Object.keys(manifest.dependencies ?? {}),
        sources: files.map((file) => ({ path: relative(root, file), text: readFileSync(file, "utf8") })),
      };
    });
}
