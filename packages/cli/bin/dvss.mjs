#!/usr/bin/env node
// Plain JavaScript on purpose: it must run, and explain itself, on any Node version before loading
// the TypeScript sources. On a Node too old for them it runs itself again under one that is not.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { nodeBinDirForDvss, withNodeOnPath } from "../../../scripts/node-version.mjs";

const binDir = nodeBinDirForDvss();
if (binDir) {
  const again = spawnSync(join(binDir, "node"), [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
    env: withNodeOnPath(binDir),
  });
  process.exit(again.status ?? 1);
}
const { runCli } = await import("../src/main.ts");
process.exitCode = await runCli(process.argv.slice(2));
