#!/usr/bin/env node
// Plain JavaScript on purpose: it must run, and explain itself, on any Node version before
// loading the TypeScript sources (which Node runs natively from 22.18 / 23.6 on).
const [major] = process.versions.node.split(".").map(Number);
if (major < 22) {
  console.error(
    `dvss needs Node.js 22 or newer (24 LTS recommended); this is Node ${process.versions.node}.`,
  );
  process.exit(2);
}
if (!process.features.typescript) {
  console.error(
    `dvss runs its TypeScript sources directly, which this Node ${process.versions.node} cannot do.\n` +
      "Use Node.js 24 (or 22.18+), or set NODE_OPTIONS=--experimental-strip-types.",
  );
  process.exit(2);
}
const { runCli } = await import("../src/main.ts");
process.exitCode = await runCli(process.argv.slice(2));
