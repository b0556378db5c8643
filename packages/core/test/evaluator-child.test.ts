import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { build } from "rolldown";
import { afterAll, describe, expect, it } from "vitest";
import { importsOf } from "../../../test/package-graph.ts";
import { EVALUATOR_ENTRY } from "../src/mapping/evaluator.ts";

const ISOLATION = fileURLToPath(new URL("../src/mapping/isolation.ts", import.meta.url));

/** Every module the file at `path` loads, following relative imports: local files, then packages. */
function importGraph(path: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const specifier of importsOf(file, readFileSync(file, "utf8"))) {
      if (specifier.startsWith(".")) visit(resolve(dirname(file), specifier));
      else packages.add(specifier);
    }
  };
  visit(path);
  return { files: [...files], packages: [...packages] };
}

describe("the evaluator process's program", () => {
  it("is a JavaScript module that loads no TypeScript, and of packages only jsonata", () => {
    // A process that loads a .ts file loads Node's type stripper with it (~17 MiB of RSS per evaluator).
    const entry = fileURLToPath(EVALUATOR_ENTRY);
    expect(entry).toMatch(/\.js$/);

    const { files, packages } = importGraph(entry);

    expect(files.filter((file) => !file.endsWith(".js"))).toEqual([]);
    expect(packages.filter((name) => !name.startsWith("node:"))).toEqual(["jsonata"]);
  });
});

describe("the evaluator bundled with the functions", () => {
  const dir = mkdtempSync(join(tmpdir(), "dvss-evaluator-bundle-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("starts its evaluators on the bundle itself, which serves from the same code", async () => {
    // prepare: one ES module holding the pool, whose export maps through it as a handler would
    const entry = join(dir, "entry.ts");
    writeFileSync(
      entry,
      `import { readFileSync } from "node:fs";
import { MappingPool, mappingProgram } from ${JSON.stringify(ISOLATION)};
const limits = { timeoutMs: 5000, maxDepth: 100, maxSequence: 1000 };
export async function handler() {
  const pool = new MappingPool({ size: 2 });
  const request = { mappingId: "vendorB/inventory_update/1", vendorId: "vendorB", maxOutputChars: 1000, input: { payload: { sku: "ABC-001" } } };
  const mapped = await pool.evaluate({ ...request, program: mappingProgram('{"sku": payload.sku}', limits) });
  const forbidden = await pool.evaluate({ ...request, program: mappingProgram('{"at": $now()}', limits) });
  const entries = pool.pids.map((pid) => readFileSync("/proc/" + pid + "/cmdline", "utf8").split("\\0").filter(Boolean).at(-1));
  await pool.close();
  return { mapped, forbidden, entries };
}
`,
    );
    const bundle = join(dir, "bundle.mjs");
    await build({
      input: entry,
      platform: "node",
      logLevel: "silent",
      output: { format: "esm", file: bundle, codeSplitting: false },
    });

    // act: a process that loads the bundle and calls its handler, as Lambda does
    const { stdout } = await promisify(execFile)(process.execPath, [
      "--input-type=module",
      "--eval",
      `const { handler } = await import(${JSON.stringify(pathToFileURL(bundle).href)}); console.log(JSON.stringify(await handler()));`,
    ]);

    // assert: the bundle answered as the evaluator, from the one copy of its code
    const { forbidden, mapped, entries } = JSON.parse(stdout);
    expect(mapped).toEqual({ ok: true, output: { sku: "ABC-001" } });
    expect(forbidden).toMatchObject({ ok: false, failure: { code: "DVSS0001" } });
    expect(entries.length).toBeGreaterThan(0);
    for (const started of entries) expect(started).toBe(bundle);
  });
});
