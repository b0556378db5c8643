import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MEMORY_PATH, type MemoryReport, RUNTIME_NODE_FLAGS } from "@dvss/local/memory";
import type { LocalEndpoints } from "@dvss/local/runtime";

/** CPU seconds used so far, by thread name (MainThread, dynalite, s3rver, tasks, ...), process and children. */
export type ThreadCpu = Record<string, number>;

const CLOCK_TICKS_PER_SECOND = 100;

function threadCpu(pids: number[]): ThreadCpu {
  const seconds: ThreadCpu = {};
  for (const pid of pids) {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, "utf8");
        const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        // Fields after the name: state is index 0, utime 11, stime 12.
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const used = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
        // V8 and libuv helper threads share a few names; what matters is the total per name.
        seconds[name] = (seconds[name] ?? 0) + used;
      } catch {
        // The thread ended while we looked.
      }
    }
  }
  return seconds;
}

/** CPU used between two readings, by thread name. */
export function cpuSince(before: ThreadCpu, after: ThreadCpu): ThreadCpu {
  return Object.fromEntries(
    Object.entries(after).map(([name, seconds]) => [name, seconds - (before[name] ?? 0)]),
  );
}

/** The local runtime as `npm start` runs it, in its own process, on a fresh data directory and a free port. */
export interface RuntimeProcess {
  pid: number;
  dataDir: string;
  /** Everything the runtime printed, kept after it stops (where to look when a run fails). */
  logFile: string;
  endpoints: LocalEndpoints;
  /** Highest resident set seen so far (the process and any children it started), in bytes. */
  peakRssBytes(): number;
  /** The highest of each figure the runtime reported on MEMORY_PATH so far (each at its own moment). */
  peakMemory(): PeakMemory;
  /** CPU seconds so far by thread name (Linux /proc). */
  cpu(): ThreadCpu;
  stop(): Promise<void>;
}

/** Highest heap used and taken, and memory held outside it, by thread, in bytes (sampled once a second). */
export interface PeakMemory {
  threads: Record<
    string,
    { usedBytes: number; totalBytes: number; limitBytes: number; externalBytes: number }
  >;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function statusField(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(
      readFileSync(`/proc/${pid}/status`, "utf8"),
    );
    return match?.[1] ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The process and its descendants (Linux /proc), so stores moved to child processes are counted too. */
function processTree(pid: number): number[] {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) {
    const current = pids[i] as number;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${current}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        const children = readFileSync(`/proc/${current}/task/${task}/children`, "utf8").trim();
        if (children) pids.push(...children.split(/\s+/).map(Number));
      } catch {
        // The task ended while we looked.
      }
    }
  }
  return pids;
}

/**
 * `npm start` as a child process on `port` and `dataDir`, its output appended to `logFile`;
 * resolves once it printed its ready line, with the endpoints it wrote.
 */
export async function spawnRuntime(
  repoRoot: string,
  options: { port: number; dataDir: string; logFile: string; readyTimeoutMs?: number },
): Promise<{ child: ChildProcess; endpoints: LocalEndpoints }> {
  const { port, dataDir, logFile } = options;
  const child = spawn(process.execPath, [...RUNTIME_NODE_FLAGS, "packages/local/src/main.ts"], {
    cwd: repoRoot,
    env: { ...process.env, PORT: String(port), DVSS_DATA_DIR: dataDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    appendFileSync(logFile, chunk);
    output += chunk.toString();
    if (output.length > 20_000) output = output.slice(-10_000);
  };
  child.stderr?.on("data", keep);
  child.once("exit", (code, signal) => {
    appendFileSync(logFile, `\n[runtime exited: code ${code}, signal ${signal}]\n`);
  });
  await new Promise<void>((resolve, reject) => {
    const timer =
      options.readyTimeoutMs === undefined
        ? undefined
        : setTimeout(
            () => reject(new Error(`runtime not ready after ${options.readyTimeoutMs} ms:\n${output}`)),
            options.readyTimeoutMs,
          );
    child.stdout?.on("data", (chunk: Buffer) => {
      keep(chunk);
      if (/DVSS local ready \S+/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`runtime exited with ${code} before it was ready (${logFile}):\n${output}`));
    });
  });
  const endpoints = JSON.parse(readFileSync(join(dataDir, "endpoints.json"), "utf8")) as LocalEndpoints;
  return { child, endpoints };
}

export async function startRuntimeProcess(repoRoot: string): Promise<RuntimeProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), "dvss-bench-"));
  const logFile = `${dataDir}.log`;
  const port = await freePort();
  const { child, endpoints } = await spawnRuntime(repoRoot, {
    port,
    dataDir,
    logFile,
    readyTimeoutMs: 60_000,
  });
  const pid = child.pid as number;

  let peak = 0;
  const sample = () => {
    const tree = processTree(pid);
    const rss = tree.reduce((sum, member) => sum + statusField(member, "VmRSS"), 0);
    // VmHWM catches a peak between two samples for the main process.
    peak = Math.max(peak, rss, statusField(pid, "VmHWM"));
  };
  const sampler = setInterval(sample, 200);
  sample();

  const memory: PeakMemory = { threads: {} };
  const sampleMemory = async () => {
    try {
      const response = await fetch(new URL(MEMORY_PATH, endpoints.api));
      const report = (await response.json()) as MemoryReport;
      for (const [name, heap] of Object.entries(report.threads)) {
        const peak = memory.threads[name] ?? { usedBytes: 0, totalBytes: 0, limitBytes: 0, externalBytes: 0 };
        memory.threads[name] = peak;
        peak.usedBytes = Math.max(peak.usedBytes, heap.usedBytes);
        peak.totalBytes = Math.max(peak.totalBytes, heap.totalBytes);
        peak.externalBytes = Math.max(peak.externalBytes, heap.externalBytes);
        peak.limitBytes = heap.limitBytes;
      }
    } catch {
      // Stopping, or too busy to answer this time: the next sample will do.
    }
  };
  const memorySampler = setInterval(() => void sampleMemory(), 1_000);

  return {
    pid,
    dataDir,
    logFile,
    endpoints,
    peakRssBytes() {
      sample();
      return peak;
    },
    peakMemory() {
      return memory;
    },
    cpu() {
      return threadCpu(processTree(pid));
    },
    async stop() {
      clearInterval(sampler);
      clearInterval(memorySampler);
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill("SIGTERM");
        const timeout = setTimeout(() => child.kill("SIGKILL"), 60_000);
        await exited;
        clearTimeout(timeout);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
