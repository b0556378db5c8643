import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The file a running local runtime holds in its data directory. */
export const LOCK_FILE = "runtime.lock";

interface LockHolder {
  pid: number;
  startedAt: string;
  /** The API URL, once the holder listens. */
  api?: string;
}

/** Another runtime (in this or another process) runs on the data directory: its stores cannot be opened twice. */
export class DataDirInUseError extends Error {
  readonly code = "DATA_DIR_IN_USE";
  readonly dataDir: string;
  readonly holder: LockHolder;
  constructor(dataDir: string, holder: LockHolder) {
    const api = holder.api ? `, API ${holder.api}` : "";
    super(
      `The data directory ${dataDir} is in use by another DVSS runtime (process ${holder.pid}${api}, ` +
        `started ${holder.startedAt}). Stop that one (Ctrl-C in its terminal, or kill ${holder.pid}), ` +
        "or start this one on another folder with DVSS_DATA_DIR=<folder>.",
    );
    this.name = "DataDirInUseError";
    this.dataDir = dataDir;
    this.holder = holder;
  }
}

// Locks held by runtimes of this process: a second runtime here is refused too.
const heldHere = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  // A killed runtime its parent has not reaped yet is a zombie (state Z): it holds nothing.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc (not Linux): a process that answers is taken as alive
  }
}

/** Written whole to a side file first: a reader never sees half a lock. */
function writeSide(file: string, holder: LockHolder): string {
  const side = `${file}.${process.pid}`;
  writeFileSync(side, JSON.stringify(holder));
  return side;
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(readFileSync(file, "utf8")) as Partial<LockHolder>;
    return typeof holder.pid === "number" ? (holder as LockHolder) : undefined;
  } catch {
    return undefined; // gone meanwhile, or not a lock
  }
}

export interface DataDirLock {
  /** Records the API URL, so a refused runtime can name it. */
  listening(api: string): void;
  release(): void;
}

/**
 * Takes the data directory for this runtime, before anything in it is opened or written. A lock
 * left by a process that no longer runs (killed, crashed) is taken over.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const file = join(dataDir, LOCK_FILE);
  const holder: LockHolder = { pid: process.pid, startedAt: new Date().toISOString() };
  const side = writeSide(file, holder);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(side, file); // fails if the lock exists: of two runtimes starting together, one wins
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        const current = readHolder(file);
        const inUse = current && (current.pid === process.pid ? heldHere.has(file) : isAlive(current.pid));
        if (current && inUse) throw new DataDirInUseError(dataDir, current);
        if (attempt > 0) throw new Error(`Cannot take ${file}: another runtime is starting on ${dataDir}`);
        rmSync(file, { force: true }); // left by a runtime that no longer runs
      }
    }
  } finally {
    rmSync(side, { force: true });
  }
  heldHere.add(file);
  return {
    listening(api) {
      holder.api = api;
      renameSync(writeSide(file, holder), file);
    },
    release() {
      heldHere.delete(file);
      if (readHolder(file)?.pid === process.pid) rmSync(file, { force: true });
    },
  };
}
