// The SST type-check needs SST's platform types, which `sst install` writes (offline) into
// .sst/platform. `npm test` runs it when they are missing, never skips the check silently.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const INSTALL =
  "SST_SKIP_DEPENDENCY_CHECK=true SST_NO_BUN=1 SST_TELEMETRY_DISABLED=1 SST_STAGE=dev npx sst install";

if (!existsSync(join(root, ".sst/platform/config.d.ts"))) {
  console.error("SST platform types missing (.sst/platform): running `sst install` (offline) once...");
  const install = spawnSync("npx", ["sst", "install"], {
    cwd: root,
    stdio: ["ignore", "ignore", "pipe"],
    encoding: "utf8",
    shell: process.platform === "win32",
    env: {
      ...process.env,
      SST_SKIP_DEPENDENCY_CHECK: "true",
      SST_NO_BUN: "1",
      SST_TELEMETRY_DISABLED: "1",
      SST_STAGE: "dev",
    },
  });
  if (install.status !== 0 || !existsSync(join(root, ".sst/platform/config.d.ts"))) {
    const said = `${install.stderr ?? ""}${install.error?.message ?? ""}`.trim().split("\n").at(-1);
    console.error(
      `Cannot type-check the SST stacks: \`sst install\` failed${said ? ` (${said})` : ""}. Run: ${INSTALL}`,
    );
    process.exit(1);
  }
}
