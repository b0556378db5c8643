import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "@dvss/local/lambda";
import { describe, expect, it } from "vitest";

/** A project whose `sst` is a stand-in running `body`, with the script that makes sure SST's types are there. */
function projectWithSst(body: string): string {
  const root = mkdtempSync(join(tmpdir(), "dvss-sst-"));
  mkdirSync(join(root, "scripts"));
  copyFileSync(join(REPO_ROOT, "scripts/sst-platform.mjs"), join(root, "scripts/sst-platform.mjs"));
  writeFileSync(join(root, "package.json"), JSON.stringify({ name: "project", private: true }));
  mkdirSync(join(root, "node_modules/.bin"), { recursive: true });
  writeFileSync(join(root, "node_modules/.bin/sst"), `#!/bin/sh\n${body}\n`);
  chmodSync(join(root, "node_modules/.bin/sst"), 0o755);
  return root;
}

const run = (root: string) =>
  spawnSync(process.execPath, [join(root, "scripts/sst-platform.mjs")], { cwd: root, encoding: "utf8" });

describe("the SST type-check's platform types", () => {
  it("are written with `sst install` when missing, saying so", () => {
    const root = projectWithSst(
      '[ "$1" = install ] && [ "$SST_STAGE" = dev ] && mkdir -p .sst/platform && touch .sst/platform/config.d.ts',
    );

    const result = run(root);

    expect(result.status).toBe(0);
    expect(result.stderr.trim()).toBe(
      "SST platform types missing (.sst/platform): running `sst install` (offline) once...",
    );
    expect(existsSync(join(root, ".sst/platform/config.d.ts"))).toBe(true);
  });

  it("are left alone when present: nothing runs, nothing is said", () => {
    const root = projectWithSst("echo ran > ran.txt");
    mkdirSync(join(root, ".sst/platform"), { recursive: true });
    writeFileSync(join(root, ".sst/platform/config.d.ts"), "");

    const result = run(root);

    expect(result.status).toBe(0);
    expect(result.stderr).toBe("");
    expect(existsSync(join(root, "ran.txt"))).toBe(false);
  });

  it("stop the type-check with the command to run when `sst install` fails, never skip it", () => {
    const root = projectWithSst("echo 'no provider cache' >&2; exit 3");

    const result = run(root);

    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n").at(-1)).toBe(
      "Cannot type-check the SST stacks: `sst install` failed (no provider cache). Run: " +
        "SST_SKIP_DEPENDENCY_CHECK=true SST_NO_BUN=1 SST_TELEMETRY_DISABLED=1 SST_STAGE=dev npx sst install",
    );
  });
});
