import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  importsOf,
  packageCycles,
  packageImports,
  readWorkspace,
  undeclaredImports,
  type WorkspacePackage,
} from "./package-graph.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** A package of one file per entry of `files` (path → text). */
function pkg(short: string, declared: string[], files: Record<string, string>): WorkspacePackage {
  return {
    name: `@x/${short}`,
    dir: `packages/${short}`,
    declared,
    sources: Object.entries(files).map(([path, text]) => ({ path: `packages/${short}/src/${path}`, text })),
  };
}

describe("the workspace packages' graph", () => {
  it("has no cycle, and every package declares the workspace packages it imports", () => {
    const packages = readWorkspace(ROOT);
    expect(packages.map((p) => p.name).sort()).toEqual([
      "@dvss/cli",
      "@dvss/core",
      "@dvss/functions",
      "@dvss/local",
    ]);
    const imports = packageImports(packages);
    expect([...packageCycles(imports), ...undeclaredImports(packages, imports)]).toEqual([]);
  });
});

describe("reading imports", () => {
  it("takes static, type-only, re-exported and literal dynamic imports, not comments or strings", () => {
    const text = [
      `import { a } from "one";`,
      `import type { B } from "two";`,
      `export { c } from "three";`,
      `import "four";`,
      `const five = await import("five");`,
      `// import { no } from "comment";`,
      `/* import("block-comment") */`,
      `const text = 'import { no } from "string"';`,
      'const template = `import("template")`;',
      `const generic = <T,>(value: T): T => value;`,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript source, a template literal type
      "type Path = Readonly<Record<Key, `$.${Key}`>>;",
      `export { d, e } from "six";`,
    ].join("\n");
    expect(importsOf("x.ts", text)).toEqual(["one", "two", "three", "four", "five", "six"]);
  });

  it("leaves out an import() of an expression, which names no module", () => {
    expect(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript source, an import() of a template
      importsOf("x.ts", "const file = pick();\nawait import(file);\nawait import(`./${file}.ts`);"),
    ).toEqual([]);
  });

  it("refuses a file it cannot parse, naming it", () => {
    expect(() => importsOf("packages/a/src/broken.ts", `import { a from "one";`)).toThrow(
      "packages/a/src/broken.ts: its imports cannot be read",
    );
  });
});

describe("the rules", () => {
  it("finds an import of a package that is not declared, naming the file", () => {
    const packages = [
      pkg("a", [], { "main.ts": `import { b } from "@x/b/thing";` }),
      pkg("b", [], { "thing.ts": "export const b = 1;" }),
    ];
    expect(undeclaredImports(packages, packageImports(packages))).toEqual([
      "packages/a/package.json does not list @x/b in its dependencies, yet packages/a/src/main.ts imports @x/b/thing",
    ]);
  });

  it("counts a type-only import and a dynamic one as dependencies", () => {
    const packages = [
      pkg("a", ["@x/b"], { "main.ts": `import type { B } from "@x/b/types";\nawait import("@x/c");` }),
      pkg("b", [], {}),
      pkg("c", [], {}),
    ];
    const imports = packageImports(packages);
    expect(imports.map((entry) => entry.to)).toEqual(["@x/b", "@x/c"]);
    expect(undeclaredImports(packages, imports)).toEqual([
      "packages/a/package.json does not list @x/c in its dependencies, yet packages/a/src/main.ts imports @x/c",
    ]);
  });

  it("names each undeclared package once per importing package", () => {
    const packages = [
      pkg("a", [], { "a.ts": `import "@x/b/one";\nimport "@x/b/two";`, "c.ts": `import "@x/b/one";` }),
      pkg("b", [], {}),
    ];
    expect(undeclaredImports(packages, packageImports(packages))).toEqual([
      "packages/a/package.json does not list @x/b in its dependencies, yet packages/a/src/a.ts imports @x/b/one (and 2 more imports)",
    ]);
  });

  it("finds a cycle through several packages once, with a file for each step", () => {
    const packages = [
      pkg("a", ["@x/b"], { "a.ts": `import "@x/b/b";` }),
      pkg("b", ["@x/c"], { "b.ts": `import "@x/c/c";` }),
      pkg("c", ["@x/a"], { "c.ts": `import "@x/a/a";`, "d.ts": `import "@x/a/a";` }),
    ];
    expect(packageCycles(packageImports(packages))).toEqual([
      "@x/a -> @x/b -> @x/c -> @x/a (packages/a/src/a.ts imports @x/b/b; " +
        "packages/b/src/b.ts imports @x/c/c; packages/c/src/c.ts imports @x/a/a)",
    ]);
  });

  it("passes a declared graph without a cycle, and ignores imports inside one package", () => {
    const packages = [
      pkg("a", ["@x/b", "@x/c"], { "a.ts": `import "@x/b/b";\nimport "@x/c/c";\nimport "@x/a/other";` }),
      pkg("b", ["@x/c"], { "b.ts": `import "@x/c/c";` }),
      pkg("c", [], { "c.ts": `import "node:fs";` }),
    ];
    const imports = packageImports(packages);
    expect(packageCycles(imports)).toEqual([]);
    expect(undeclaredImports(packages, imports)).toEqual([]);
  });

  it("tells a package from another whose name it begins with", () => {
    const packages = [pkg("a", [], { "a.ts": `import "@x/ab/thing";` }), pkg("ab", [], {})];
    const imports = packageImports(packages);
    expect(imports.map((entry) => entry.to)).toEqual(["@x/ab"]);
  });
});
