// Plain JavaScript on purpose: it must run, and explain itself, on any Node version, before anything
// loads the TypeScript sources (which Node runs natively from 22.18 on, and on 23 from 23.6).
// The one Node version check of `npm start`, `npm test` and `npx dvss`.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const REQUIRED_NODE = "22.18";
/** The Node fetched from the npm registry when the machine's is older. */
export const FETCHED_NODE_MAJOR = 24;
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Where that Node is kept (ignored by git): fetched once, then reused. */
export const FETCHED_NODE_DIR = join(REPO_ROOT, ".node");
const FETCHED_NODE_BIN = join(FETCHED_NODE_DIR, "node_modules", ".bin");

/** Whether this Node version ("22.18.0", "v24.1.0") runs DVSS: it must strip TypeScript types by default. */
export function nodeRunsDvss(version) {
  const [major = 0, minor = 0] = String(version).replace(/^v/, "").split(".").map(Number);
  if (major === 22) return minor >= 18;
  if (major === 23) return minor >= 6;
  return major > 23;
}

/** What to run by hand when no Node could be fetched. */
export function manualInstallHint(current = process.versions.node) {
  return (
    `DVSS needs Node.js ${REQUIRED_NODE} or newer; this is Node ${current}, and Node ${FETCHED_NODE_MAJOR} ` +
    "could not be fetched from the npm registry. Install it with " +
    `\`npm install --prefix ~/.node${FETCHED_NODE_MAJOR} node@${FETCHED_NODE_MAJOR}\`, ` +
    `put ~/.node${FETCHED_NODE_MAJOR}/node_modules/.bin first on PATH, and run the command again.`
  );
}

function versionOf(nodeBinary) {
  const result = spawnSync(nodeBinary, ["-p", "process.versions.node"], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** Installs Node into a fresh folder, then moves it into place: a failed or concurrent fetch never leaves half a Node. */
function fetchNode() {
  const staging = `${FETCHED_NODE_DIR}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const install = spawnSync(
    npm,
    [
      "install",
      "--prefix",
      staging,
      "--no-save",
      "--no-package-lock",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      `node@${FETCHED_NODE_MAJOR}`,
    ],
    { encoding: "utf8", shell: process.platform === "win32" },
  );
  const binary = join(staging, "node_modules", ".bin", "node");
  if (install.status !== 0 || !nodeRunsDvss(versionOf(binary) ?? "0")) {
    rmSync(staging, { recursive: true, force: true });
    const output = `${install.stderr ?? ""}${install.error?.message ?? ""}`.trim().split("\n").at(-1);
    return { error: output };
  }
  // Another command may have fetched one meanwhile, and run under it: keep that one.
  if (nodeRunsDvss(versionOf(join(FETCHED_NODE_BIN, "node")) ?? "0")) {
    rmSync(staging, { recursive: true, force: true });
    return {};
  }
  rmSync(FETCHED_NODE_DIR, { recursive: true, force: true }); // a broken one
  try {
    renameSync(staging, FETCHED_NODE_DIR);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(FETCHED_NODE_BIN, "node"))) return { error: error.message };
  }
  return {};
}

/**
 * Nothing when this Node runs DVSS. Otherwise the folder of a Node that does (put it first on PATH),
 * fetched from the npm registry the first time, with one line saying so; or, when that fails, one
 * line saying what to run, and the process exits.
 */
export function nodeBinDirForDvss(current = process.versions.node) {
  if (nodeRunsDvss(current)) return undefined;
  const cached = join(FETCHED_NODE_BIN, "node");
  const version = existsSync(cached) ? versionOf(cached) : undefined;
  const tooOld = `Node ${current} is older than ${REQUIRED_NODE}`;
  if (version && nodeRunsDvss(version)) {
    console.error(`${tooOld}: running under Node ${version} from .node/.`);
    return FETCHED_NODE_BIN;
  }
  console.error(
    `${tooOld}: fetching Node ${FETCHED_NODE_MAJOR} from the npm registry into .node/ (once) and running under it...`,
  );
  const { error } = fetchNode();
  if (error !== undefined || !versionOf(cached)) {
    console.error(manualInstallHint(current) + (error ? ` (npm said: ${error})` : ""));
    process.exit(1);
  }
  return FETCHED_NODE_BIN;
}

/** The environment of a command run under the Node in `binDir`: first on PATH. */
export function withNodeOnPath(binDir, env = process.env) {
  const key = Object.keys(env).find((name) => name.toUpperCase() === "PATH") ?? "PATH";
  return { ...env, [key]: `${binDir}${process.platform === "win32" ? ";" : ":"}${env[key] ?? ""}` };
}
