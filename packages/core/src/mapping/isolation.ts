import { type ChildProcess, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { MappingResourceError, MappingStarvedError, MappingTimeoutError } from "../errors.ts";
import {
  EVALUATOR_ENTRY,
  EVALUATOR_ENV,
  EVALUATOR_READY,
  type EvaluateReply,
  type EvaluateRequest,
  type EvaluatorReady,
  type ExpressionLimits,
  type JsonataFailure,
} from "./evaluator.ts";

/**
 * Mappings are evaluated in a small pool of child processes (evaluator.ts), never on the thread
 * that runs the tasks. The parent holds the clock: a mapping still running at its deadline that has
 * used its time limit in CPU has its process killed and replaced, and only its own event fails
 * (MappingTimeoutError). One that has not was kept from the CPU (a busy machine, a process held
 * up): it gets more wall time, up to a ceiling (`maxWallFactor` times its limit), past which its
 * process is killed too and its event fails with MappingStarvedError, which the workflow retries.
 * A process that dies of an exhausted heap fails only the event it was mapping (MappingResourceError).
 * One vendor's events use at most `size - 1` processes at a time, so another vendor's event always
 * finds one, however slow the first vendor's mapping is.
 */

/** One mapping program: its source and guardrails, with an id the evaluators cache it under. */
export interface MappingProgram {
  readonly id: number;
  readonly source: string;
  readonly limits: ExpressionLimits;
}

const programs = new Map<string, MappingProgram>();

/** The program of a source and its limits; the same pair always gives the same program. */
export function mappingProgram(source: string, limits: ExpressionLimits): MappingProgram {
  const key = `${limits.timeoutMs}/${limits.maxDepth}/${limits.maxSequence}\n${source}`;
  let program = programs.get(key);
  if (!program) {
    program = { id: programs.size + 1, source, limits };
    programs.set(key, program);
  }
  return program;
}

export interface EvaluationRequest {
  /** `vendorId/eventType/version`, as the errors name it. */
  mappingId: string;
  /** Whose event: one vendor's events never hold every evaluator at once. */
  vendorId: string;
  program: MappingProgram;
  /** Largest output (characters of its strings and keys) accepted back. */
  maxOutputChars: number;
  input: unknown;
}

/** The mapping's output, or the JSONata error it threw. Stops (time, memory) are thrown instead. */
export type Evaluation = { ok: true; output: unknown } | { ok: false; failure: JsonataFailure };

export interface MappingPoolOptions {
  /** Evaluator processes at most; default the available CPUs, at least 2 and at most 4. */
  size?: number;
  /** Heap of each evaluator process (V8 old space), in MiB; default 128. */
  heapMb?: number;
  /** Time past the mapping's own limit before its process is killed; default 100 ms. */
  graceMs?: number;
  /**
   * Wall time an evaluation may take, as a multiple of its time limit, while it has used less than
   * that limit in CPU (its process waited for the CPU); past it, MappingStarvedError. Default 10.
   * Where a process's CPU time cannot be read (no /proc), the limit holds on the wall clock alone.
   */
  maxWallFactor?: number;
  /** How long a new evaluator may take to start; default 15 s (a cold Lambda loads the whole bundle). */
  startTimeoutMs?: number;
  /**
   * Keep one evaluator started ahead while the others work, so an event that arrives while
   * they are held (a slow mapping, a replacement starting) need not wait ~0.1 s for a new one.
   * Default on, except in Lambda, where a sandbox maps one event at a time.
   */
  spare?: boolean;
}

export const DEFAULT_EVALUATOR_HEAP_MB = 128;
/**
 * Young generation of an evaluator (V8 semi-space, MiB). An evaluator maps one document at a time
 * and keeps nothing between them, but V8's default 16 MiB semi-spaces let it grow to ~145 MiB of
 * RSS after some thousands of mappings; with 4 MiB it stayed ~93 MiB at the same speed (two
 * evaluators, 40,000 mappings of the seed event: 6.1 s against 6.3 s). Its program loads no
 * TypeScript (evaluator-child.js), so no type stripper either: ~51 MiB idle, ~77 MiB after the
 * same 40,000 mappings.
 */
export const EVALUATOR_SEMI_SPACE_MB = 4;

interface Job {
  request: EvaluationRequest;
  resolve(evaluation: Evaluation): void;
  reject(error: Error): void;
}

interface Evaluator {
  child: ChildProcess;
  state: "starting" | "idle" | "busy" | "stopped";
  /** Programs this process has compiled. */
  known: Set<number>;
  job?: Job;
  jobId?: number;
  timer?: NodeJS.Timeout;
  /** The CPU the process had used (ms since it started) when it last answered: a job's baseline. */
  cpuMs: number;
  /** The end of the child's stderr, to tell an exhausted heap from another crash. */
  stderrTail: string;
}

const describeLimits = (mappingId: string) => ({ path: "mappingVersion", message: mappingId });

export class MappingPool {
  readonly size: number;
  readonly heapMb: number;
  readonly #graceMs: number;
  readonly #maxWallFactor: number;
  readonly #startTimeoutMs: number;
  readonly #spare: boolean;
  readonly #evaluators = new Set<Evaluator>();
  readonly #queue: Job[] = [];
  readonly #runningByVendor = new Map<string, number>();
  #nextJob = 0;
  #closed = false;
  /** The last evaluator started died before it was ready: no spare until one starts. */
  #startFailed = false;

  constructor(options: MappingPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? Math.min(4, Math.max(2, availableParallelism())));
    this.heapMb = options.heapMb ?? DEFAULT_EVALUATOR_HEAP_MB;
    this.#graceMs = options.graceMs ?? 100;
    this.#maxWallFactor = Math.max(1, options.maxWallFactor ?? 10);
    this.#startTimeoutMs = options.startTimeoutMs ?? 15_000;
    this.#spare = options.spare ?? !process.env.AWS_LAMBDA_FUNCTION_NAME;
  }

  /** Evaluates a program on an input in an evaluator process, within the program's time limit. */
  evaluate(request: EvaluationRequest): Promise<Evaluation> {
    if (this.#closed) return Promise.reject(new Error("The mapping pool is closed"));
    return new Promise<Evaluation>((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      this.#dispatch();
    });
  }

  /**
   * Starts one evaluator ahead of the first mapping (a Lambda's init, a task module's import),
   * so the first event need not wait for it. Does nothing once one runs, or in an evaluator.
   */
  prestart(): void {
    if (this.#closed || this.#evaluators.size > 0 || process.env[EVALUATOR_ENV] === "1") return;
    this.#spawn().child.channel?.unref();
  }

  /** Evaluator processes running now (started or starting). */
  get processes(): number {
    return this.#evaluators.size;
  }

  /** The process ids of the evaluators running now. */
  get pids(): number[] {
    return [...this.#evaluators].flatMap((evaluator) => evaluator.child.pid ?? []);
  }

  /** Stops every evaluator; queued and running evaluations fail. The pool takes no more work. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.reject(new Error("The mapping pool is closed"));
    const exits = [...this.#evaluators].map((evaluator) => {
      const exited = new Promise<void>((resolve) => {
        if (evaluator.child.exitCode !== null || evaluator.child.signalCode !== null) resolve();
        else evaluator.child.once("exit", () => resolve());
      });
      // Unref'd, its exit would not be waited for.
      evaluator.child.ref();
      this.#stop(evaluator, new Error("The mapping pool is closed"));
      return exited;
    });
    await Promise.all(exits);
  }

  /** The most evaluators one vendor's events may hold at once. */
  get #perVendor(): number {
    return Math.max(1, this.size - 1);
  }

  /** Hands waiting jobs to idle evaluators, and starts evaluators for the jobs left waiting. */
  #dispatch(): void {
    const idle = [...this.#evaluators].filter((evaluator) => evaluator.state === "idle");
    const running = new Map(this.#runningByVendor);
    let waiting = 0;
    for (let index = 0; index < this.#queue.length; ) {
      const job = this.#queue[index] as Job;
      const vendorRunning = running.get(job.request.vendorId) ?? 0;
      if (vendorRunning >= this.#perVendor) {
        index += 1;
        continue;
      }
      running.set(job.request.vendorId, vendorRunning + 1);
      const evaluator = idle.shift();
      if (evaluator) {
        this.#queue.splice(index, 1);
        this.#run(evaluator, job);
      } else {
        waiting += 1;
        index += 1;
      }
    }
    const starting = [...this.#evaluators].filter((evaluator) => evaluator.state === "starting");
    const spare = this.#spare && !this.#startFailed && this.#evaluators.size > 0 && idle.length === 0 ? 1 : 0;
    const toStart = Math.min(waiting + spare - starting.length, this.size - this.#evaluators.size);
    for (let started = 0; started < toStart; started += 1) starting.push(this.#spawn());
    // A starting evaluator keeps the process alive only while a job waits for it.
    for (const evaluator of starting) {
      if (waiting > 0) evaluator.child.channel?.ref();
      else evaluator.child.channel?.unref();
    }
  }

  #spawn(): Evaluator {
    // An evaluator runs the whole bundle when bundled: whatever it imports must not start more.
    if (process.env[EVALUATOR_ENV] === "1") throw new Error("An evaluator process does not start evaluators");
    const child = fork(fileURLToPath(EVALUATOR_ENTRY), [], {
      env: { ...process.env, [EVALUATOR_ENV]: "1" },
      execArgv: [`--max-old-space-size=${this.heapMb}`, `--max-semi-space-size=${EVALUATOR_SEMI_SPACE_MB}`],
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    const evaluator: Evaluator = { child, state: "starting", known: new Set(), stderrTail: "", cpuMs: 0 };
    this.#evaluators.add(evaluator);
    // An idle evaluator never keeps the process alive; one starting or at work does, through its
    // channel, which is ref'd until it is idle.
    child.unref();
    const stderr = child.stderr as (NodeJS.ReadableStream & { unref?(): void }) | null;
    stderr?.unref?.();
    stderr?.on("data", (chunk: Buffer) => {
      evaluator.stderrTail = (evaluator.stderrTail + chunk.toString()).slice(-4096);
    });
    const startTimer = setTimeout(() => {
      this.#stop(
        evaluator,
        new Error(`The mapping evaluator did not start within ${this.#startTimeoutMs} ms`),
      );
    }, this.#startTimeoutMs);
    startTimer.unref();

    child.on("message", (message: EvaluateReply | EvaluatorReady) => {
      if ("ready" in message) {
        if (message.ready !== EVALUATOR_READY) return;
        clearTimeout(startTimer);
        evaluator.cpuMs = message.cpuMs;
        if (evaluator.state !== "starting") return;
        evaluator.state = "idle";
        this.#startFailed = false;
        child.channel?.unref();
        this.#dispatch();
        return;
      }
      this.#answer(evaluator, message);
    });
    child.on("error", (error) => {
      clearTimeout(startTimer);
      this.#stop(evaluator, new Error(`The mapping evaluator failed: ${error.message}`));
    });
    // "close", not "exit": the child's last words on stderr (an exhausted heap) have arrived by then.
    child.on("close", (code, signal) => {
      clearTimeout(startTimer);
      if (evaluator.state === "stopped") return;
      const heapExhausted = /heap out of memory|Allocation failed|Reached heap limit/i.test(
        evaluator.stderrTail,
      );
      const job = evaluator.job;
      let error: Error;
      if (job && heapExhausted) {
        const { mappingId } = job.request;
        error = new MappingResourceError(
          `Mapping ${mappingId} needed more than its ${this.heapMb} MiB of memory and was stopped`,
          {
            details: [
              { path: "mapping", message: `ran out of memory (limit ${this.heapMb} MiB)` },
              describeLimits(mappingId),
            ],
          },
        );
      } else {
        const how = signal ? `signal ${signal}` : `exit code ${code}`;
        error = new Error(
          job
            ? `The mapping evaluator stopped (${how}) while running ${job.request.mappingId}`
            : `The mapping evaluator stopped (${how}) before it could take work`,
        );
      }
      this.#stop(evaluator, error);
    });
    return evaluator;
  }

  #run(evaluator: Evaluator, job: Job): void {
    const { request } = job;
    const jobId = this.#nextJob++;
    evaluator.state = "busy";
    evaluator.job = job;
    evaluator.jobId = jobId;
    // While it works for someone, the process waits for it.
    evaluator.child.channel?.ref();
    this.#runningByVendor.set(request.vendorId, (this.#runningByVendor.get(request.vendorId) ?? 0) + 1);
    const { program } = request;
    const message: EvaluateRequest = {
      job: jobId,
      program: program.id,
      ...(!evaluator.known.has(program.id) && { source: program.source }),
      limits: program.limits,
      maxOutputChars: request.maxOutputChars,
      input: request.input,
    };
    evaluator.known.add(program.id);
    this.#watch(
      evaluator,
      jobId,
      performance.now(),
      evaluator.cpuMs,
      program.limits.timeoutMs + this.#graceMs,
    );
    evaluator.child.send(message, (error) => {
      if (error) this.#stop(evaluator, new Error(`The mapping evaluator is unreachable: ${error.message}`));
    });
  }

  /**
   * Checks an evaluator at work after `delayMs`. Past the time limit on the wall clock, the CPU its
   * process used since the job began decides: the limit used up in CPU, MappingTimeoutError; less,
   * the process waited for the CPU and is checked again when it could have used up the rest, until
   * the ceiling on the wall clock, MappingStarvedError. Either way its process is killed.
   */
  #watch(evaluator: Evaluator, jobId: number, startedAt: number, cpuAtStart: number, delayMs: number): void {
    evaluator.timer = setTimeout(() => {
      const job = evaluator.job;
      if (evaluator.state !== "busy" || evaluator.jobId !== jobId || !job) return;
      const { mappingId, program } = job.request;
      const timeoutMs = program.limits.timeoutMs;
      const processCpu = cpuTimeMs(evaluator.child.pid);
      // The baseline is the child's own precise count; /proc counts whole ticks below it.
      const cpuUsed = processCpu === undefined ? undefined : Math.max(0, processCpu - cpuAtStart);
      if (cpuUsed === undefined || cpuUsed >= timeoutMs) {
        this.#stop(evaluator, timeoutError(mappingId, timeoutMs));
        return;
      }
      const wallUsed = performance.now() - startedAt;
      const ceilingMs = Math.max(timeoutMs * this.#maxWallFactor, timeoutMs + this.#graceMs);
      if (wallUsed >= ceilingMs) {
        this.#stop(evaluator, starvedError(mappingId, timeoutMs, ceilingMs, cpuUsed));
        return;
      }
      const next = Math.min(ceilingMs - wallUsed, Math.max(this.#graceMs, timeoutMs - cpuUsed));
      this.#watch(evaluator, jobId, startedAt, cpuAtStart, next);
    }, delayMs);
  }

  #release(evaluator: Evaluator): Job | undefined {
    const job = evaluator.job;
    clearTimeout(evaluator.timer);
    evaluator.timer = undefined;
    evaluator.job = undefined;
    evaluator.jobId = undefined;
    if (job) {
      const vendorId = job.request.vendorId;
      const running = (this.#runningByVendor.get(vendorId) ?? 1) - 1;
      if (running > 0) this.#runningByVendor.set(vendorId, running);
      else this.#runningByVendor.delete(vendorId);
    }
    return job;
  }

  #answer(evaluator: Evaluator, reply: EvaluateReply): void {
    evaluator.cpuMs = reply.cpuMs;
    if (evaluator.state !== "busy" || reply.job !== evaluator.jobId) return;
    const job = this.#release(evaluator) as Job;
    evaluator.state = "idle";
    evaluator.child.channel?.unref();
    const { mappingId, maxOutputChars } = job.request;
    if ("outputTooLarge" in reply) {
      job.reject(
        new MappingResourceError(
          `Mapping ${mappingId} produced an output of more than ${maxOutputChars} characters and was stopped`,
          {
            details: [
              { path: "mapping", message: `output over ${maxOutputChars} characters` },
              describeLimits(mappingId),
            ],
          },
        ),
      );
    } else if (reply.ok) {
      job.resolve({ ok: true, output: reply.json === undefined ? undefined : JSON.parse(reply.json) });
    } else {
      job.resolve({ ok: false, failure: reply.failure });
    }
    this.#dispatch();
  }

  /** Takes an evaluator out of the pool for good, failing its job with `error`, and kills it. */
  #stop(evaluator: Evaluator, error: Error): void {
    if (evaluator.state === "stopped") return;
    const neverReady = evaluator.state === "starting";
    evaluator.state = "stopped";
    this.#evaluators.delete(evaluator);
    const job = this.#release(evaluator);
    evaluator.child.kill("SIGKILL");
    job?.reject(error);
    if (this.#closed) {
      for (const waiting of this.#queue.splice(0)) waiting.reject(new Error("The mapping pool is closed"));
    } else if (neverReady) {
      // Evaluators cannot start here (a broken install, no memory): fail what waits rather than
      // start one after another; the next evaluation tries again.
      this.#startFailed = true;
      for (const waiting of this.#queue.splice(0)) waiting.reject(error);
    } else {
      // A replacement starts for whatever is waiting.
      this.#dispatch();
    }
  }
}

function timeoutError(mappingId: string, timeoutMs: number): MappingTimeoutError {
  return new MappingTimeoutError(`Mapping ${mappingId} ran longer than ${timeoutMs} ms and was stopped`, {
    details: [
      { path: "mapping", message: `ran longer than its limit of ${timeoutMs} ms and was stopped` },
      describeLimits(mappingId),
    ],
  });
}

function starvedError(
  mappingId: string,
  timeoutMs: number,
  ceilingMs: number,
  cpuMs: number,
): MappingStarvedError {
  const cpu = Math.round(cpuMs);
  return new MappingStarvedError(
    `Mapping ${mappingId} did not finish within ${Math.round(ceilingMs)} ms although it had used only ${cpu} ms of CPU of its ${timeoutMs} ms limit: its evaluator was kept from the CPU and was stopped; the event is retried`,
    {
      details: [
        {
          path: "mapping",
          message: `used ${cpu} ms of CPU of its limit of ${timeoutMs} ms in ${Math.round(ceilingMs)} ms`,
        },
        describeLimits(mappingId),
      ],
    },
  );
}

/** Linux reports a process's CPU time in ticks of 1/100 s (USER_HZ). */
const TICK_MS = 10;

/**
 * The CPU time a process has used since it started (user and system, all its threads), in ms, from
 * /proc/<pid>/stat; undefined where there is no /proc or the process is gone.
 */
function cpuTimeMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // After "pid (comm) ": state is field 3, utime 14, stime 15; comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * TICK_MS : undefined;
  } catch {
    return undefined;
  }
}

let shared: MappingPool | undefined;

/** The process's pool, started on first use; its evaluators never keep the process alive when idle. */
export function sharedMappingPool(): MappingPool {
  shared ??= new MappingPool();
  return shared;
}

/** Stops the process's pool (tests, clean shutdown); the next use starts a new one. */
export async function closeSharedMappingPool(): Promise<void> {
  const pool = shared;
  shared = undefined;
  await pool?.close();
}
