import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "@dvss/local/lambda";
import { describe, expect, it } from "vitest";
import { nodeRunsDvss } from "../../../scripts/node-version.mjs";

/** A project folder holding only the check, so its `.node/` is a fresh one. */
function projectWithCheck(): string {
  const root = mkdtempSync(join(tmpdir(), "dvss-node-"));
  mkdirSync(join(root, "scripts"));
  for (const file of ["node-version.mjs", "with-node.mjs"]) {
    copyFileSync(join(REPO_ROOT, "scripts", file), join(root, "scripts", file));
  }
  return root;
}

/** The check in its own process, as if this Node were `version`. */
function runCheckAs(root: string, version: string, env: NodeJS.ProcessEnv = process.env) {
  const script = `import(${JSON.stringify(join(root, "scripts/node-version.mjs"))}).then((check) => console.log(check.nodeBinDirForDvss(${JSON.stringify(version)}) ?? "unchanged"))`;
  return spawnSync(process.execPath, ["-e", script], { encoding: "utf8", env });
}

describe("the Node version check of npm start, npm test and npx dvss", () => {
  it("refuses a Node that cannot strip TypeScript types by default, accepts 22.18 and newer", () => {
    expect(nodeRunsDvss("20.20.2")).toBe(false);
    expect(nodeRunsDvss("22.0.0")).toBe(false);
    expect(nodeRunsDvss("22.17.1")).toBe(false);
    expect(nodeRunsDvss("22.18.0")).toBe(true);
    expect(nodeRunsDvss("v22.19.0")).toBe(true);
    expect(nodeRunsDvss("23.5.0")).toBe(false);
    expect(nodeRunsDvss("23.6.0")).toBe(true);
    expect(nodeRunsDvss("24.0.0")).toBe(true);
    expect(nodeRunsDvss("26.1.0")).toBe(true);
    expect(nodeRunsDvss("not a version")).toBe(false);
  });

  it("runs a command under this Node, unchanged and without a word, when it is new enough", () => {
    const root = projectWithCheck();
    const result = spawnSync(
      process.execPath,
      [join(root, "scripts/with-node.mjs"), process.execPath, "-p", "process.versions.node"],
      { encoding: "utf8" },
    );

    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(process.versions.node);
    expect(result.stderr).toBe("");
    expect(existsSync(join(root, ".node"))).toBe(false);
  });

  it("ends with the command's exit code, and passes a signal it gets on to the command", async () => {
    const root = projectWithCheck();
    const failing = spawnSync(process.execPath, [
      join(root, "scripts/with-node.mjs"),
      process.execPath,
      "-e",
      "process.exit(3)",
    ]);
    expect(failing.status).toBe(3);

    const waiting = spawn(
      process.execPath,
      [
        join(root, "scripts/with-node.mjs"),
        process.execPath,
        "-e",
        'process.on("SIGTERM", () => { console.log("stopping"); process.exit(0); }); console.log("ready"); setInterval(() => {}, 1000);',
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    await new Promise<void>((resolve) =>
      waiting.stdout.on("data", (chunk: Buffer) => {
        output += chunk;
        if (output.includes("ready")) resolve();
      }),
    );
    waiting.kill("SIGTERM");
    const code = await new Promise((resolve) => waiting.once("exit", resolve));

    expect(output).toBe("ready\nstopping\n");
    expect(code).toBe(0);
  });

  it("on an older Node, uses the Node kept in .node/ and says so in one line", () => {
    const root = projectWithCheck();
    mkdirSync(join(root, ".node/node_modules/.bin"), { recursive: true });
    symlinkSync(process.execPath, join(root, ".node/node_modules/.bin/node"));

    const result = runCheckAs(root, "22.17.0");

    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(join(root, ".node/node_modules/.bin"));
    expect(result.stderr.trim()).toBe(
      `Node 22.17.0 is older than 22.18: running under Node ${process.versions.node} from .node/.`,
    );
  });

  it("on an older Node whose newer Node cannot be fetched, stops saying exactly what to run", () => {
    const root = projectWithCheck();
    const unreachable = {
      ...process.env,
      npm_config_registry: "http://127.0.0.1:9/",
      npm_config_fetch_retries: "0",
    };

    const result = runCheckAs(root, "20.20.2", unreachable);

    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines[0]).toBe(
      "Node 20.20.2 is older than 22.18: fetching Node 24 from the npm registry into .node/ (once) and running under it...",
    );
    expect(lines[1]).toMatch(
      /^DVSS needs Node\.js 22\.18 or newer; this is Node 20\.20\.2, and Node 24 could not be fetched from the npm registry\. Install it with `npm install --prefix ~\/\.node24 node@24`, put ~\/\.node24\/node_modules\/\.bin first on PATH, and run the command again\./,
    );
    expect(lines).toHaveLength(2);
    // Nothing half-fetched is left to be trusted next time.
    expect(existsSync(join(root, ".node"))).toBe(false);
  });
});
