// Plain JavaScript on purpose (see node-version.mjs): `npm start` and `npm test` run their command
// through this, so on a Node older than DVSS needs they run under a Node that is new enough.
import { spawn } from "node:child_process";
import { nodeBinDirForDvss, withNodeOnPath } from "./node-version.mjs";

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error("usage: node scripts/with-node.mjs <command> [args...]");
  process.exit(2);
}
const binDir = nodeBinDirForDvss();
const child = spawn(command, args, {
  stdio: "inherit",
  env: binDir ? withNodeOnPath(binDir) : process.env,
  shell: process.platform === "win32",
});
// The command decides when it is done: a signal sent to this process is passed on, and the exit waits for it.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
child.on("error", (error) => {
  console.error(`Cannot run ${command}: ${error.message}`);
  process.exit(1);
});
child.on("exit", (code, signal) => {
  process.exitCode = code ?? (signal ? 128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 }[signal] ?? 1) : 1);
});
