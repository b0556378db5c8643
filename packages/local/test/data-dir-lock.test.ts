import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DataDirInUseError, LOCK_FILE } from "../src/data-dir-lock.ts";
import { REPO_ROOT } from "../src/lambda.ts";
import { startLocal } from "../src/runtime.ts";
import { bundledVendors, seedEnvelope, startHarness, tempDir } from "./harness.ts";

const env = (dataDir: string) => ({
  PATH: process.env.PATH,
  DVSS_DATA_DIR: dataDir,
  PORT: "0",
  DVSS_RECONCILE_INTERVAL_MS: "0",
  POWERTOOLS_LOG_LEVEL: "CRITICAL",
});

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

/** `npm start` in its own process on `dataDir`; resolves with its API URL once it is ready. */
async function startProcess(dataDir: string): Promise<{ child: ChildProcess; api: string }> {
  const child = spawn(process.execPath, ["packages/local/src/main.ts"], {
    cwd: REPO_ROOT,
    env: env(dataDir),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  const api = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk;
      const ready = /DVSS local ready (\S+)/.exec(output);
      if (ready?.[1]) resolve(ready[1]);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    child.once("exit", (code) => reject(new Error(`npm start exited ${code}: ${output}`)));
  });
  return { child, api };
}

describe("one runtime per data directory", () => {
  it("refuses a second `npm start` on a data directory in use with one line naming the holder, exit 1, and leaves the first alone", async () => {
    const dataDir = tempDir("dvss-locked-");
    const first = await startProcess(dataDir);
    const endpointsBefore = readFileSync(join(dataDir, "endpoints.json"), "utf8");

    const second = spawnSync(process.execPath, ["packages/local/src/main.ts"], {
      cwd: REPO_ROOT,
      env: env(dataDir),
      encoding: "utf8",
      timeout: 20_000,
    });

    expect(second.status).toBe(1);
    expect(second.stdout).toBe("");
    expect(second.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(
        new RegExp(
          `^The data directory ${dataDir} is in use by another DVSS runtime \\(process ${first.child.pid}, API ${first.api}, started \\S+\\)\\. ` +
            `Stop that one \\(Ctrl-C in its terminal, or kill ${first.child.pid}\\), or start this one on another folder with DVSS_DATA_DIR=<folder>\\.$`,
        ),
      ),
    ]);
    expect(readFileSync(join(dataDir, "endpoints.json"), "utf8")).toBe(endpointsBefore);
    expect((await fetch(`${first.api}/healthz`)).status).toBe(200);
  });

  it("takes over the lock of a runtime that was killed", async () => {
    const dataDir = tempDir("dvss-killed-lock-");
    const killed = await startProcess(dataDir);
    killed.child.kill("SIGKILL");
    await new Promise((resolve) => killed.child.once("exit", resolve));
    expect(JSON.parse(readFileSync(join(dataDir, LOCK_FILE), "utf8")).pid).toBe(killed.child.pid);

    const next = await startProcess(dataDir);

    expect((await fetch(`${next.api}/healthz`)).status).toBe(200);
    expect(JSON.parse(readFileSync(join(dataDir, LOCK_FILE), "utf8"))).toMatchObject({
      pid: next.child.pid,
      api: next.api,
    });
  });

  it("takes over the lock of a killed runtime its parent has not reaped yet (a zombie)", async () => {
    // The shell's background child exits only after the shell has become `sleep`, which never
    // reaps it: had it exited first, the shell could have reaped it before its exec.
    const parent = spawn("sh", ["-c", "sleep 0.5 & echo $!; exec sleep 20"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    children.push(parent);
    const zombie = Number(
      await new Promise<string>((resolve) => parent.stdout.once("data", (chunk) => resolve(String(chunk)))),
    );
    await expect.poll(() => readFileSync(`/proc/${zombie}/stat`, "utf8"), { timeout: 5000 }).toMatch(/\) Z /);
    const dataDir = tempDir("dvss-zombie-lock-");
    writeFileSync(
      join(dataDir, LOCK_FILE),
      JSON.stringify({ pid: zombie, startedAt: new Date().toISOString() }),
    );

    const runtime = await startHarness({ dataDir });
    try {
      expect(JSON.parse(readFileSync(join(dataDir, LOCK_FILE), "utf8")).pid).toBe(process.pid);
    } finally {
      await runtime.close();
    }
  });

  it("refuses a second runtime of the same process, and lets one start once the first is closed", async () => {
    const dataDir = tempDir("dvss-locked-here-");
    const first = await startHarness({ dataDir });
    const second = startLocal({ dataDir, port: 0, vendorsDir: bundledVendors() });

    await expect(second).rejects.toThrow(DataDirInUseError);
    await expect(second).rejects.toThrow(`(process ${process.pid}, API ${first.endpoints.api}, started `);
    expect((await first.post({ ...seedEnvelope, externalEventId: "still-served-1" })).status).toBe(202);
    await first.close();

    const third = await startHarness({ dataDir });
    try {
      const again = await third.post({ ...seedEnvelope, externalEventId: "still-served-1" });
      expect(again.body.status).toBe("DUPLICATE");
    } finally {
      await third.close();
    }
  });

  it("takes over a lock file that is not a lock (cut short, edited by hand)", async () => {
    const dataDir = tempDir("dvss-bad-lock-");
    writeFileSync(join(dataDir, LOCK_FILE), "{");

    const runtime = await startHarness({ dataDir });
    try {
      expect(JSON.parse(readFileSync(join(dataDir, LOCK_FILE), "utf8")).pid).toBe(process.pid);
    } finally {
      await runtime.close();
    }
  });
});
