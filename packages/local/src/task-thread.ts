import { Worker } from "node:worker_threads";
import { type HeapSource, WORKER_RESOURCE_LIMITS, workerHeap } from "./memory.ts";
import type { TaskReply, TaskRequest } from "./task-worker.ts";

/** The main thread's side of task-worker.ts: calls a handler there and answers with its output or error. */
export class TaskThread {
  #worker: Worker | undefined;
  readonly #pending = new Map<number, { resolve(output: unknown): void; reject(error: Error): void }>();
  #next = 0;
  #closed = false;

  /**
   * The thread starts on the first call, after the runtime exported its environment (it gets a
   * copy), and again on the call after one died: a thread that ended (a crash, memory) must not
   * leave every later task unanswered until its timeout.
   */
  #start(): Worker {
    const worker = new Worker(new URL("./task-worker.ts", import.meta.url), {
      name: "tasks",
      resourceLimits: WORKER_RESOURCE_LIMITS,
    });
    worker.on("message", (reply: TaskReply) => {
      const call = this.#pending.get(reply.id);
      if (!call) return;
      this.#pending.delete(reply.id);
      if (reply.ok) call.resolve(reply.output);
      else call.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name }));
    });
    // The calls in flight died with the thread, as with a Lambda sandbox that crashed: AWS names
    // that Lambda.Unknown, which the workflow retries (the event was not at fault).
    const failAll = (cause: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      const error = Object.assign(new Error(cause.message, { cause }), { name: "Lambda.Unknown" });
      for (const call of this.#pending.values()) call.reject(error);
      this.#pending.clear();
    };
    worker.on("error", failAll);
    worker.on("exit", (code) => failAll(new Error(`The task thread stopped (exit ${code})`)));
    return worker;
  }

  invoke(handler: string, functionName: string, input: unknown): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error("The task thread is closed"));
    this.#worker ??= this.#start();
    const worker = this.#worker;
    const id = this.#next++;
    const request: TaskRequest = { id, handler, functionName, input };
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage(request);
    });
  }

  /** The thread's heap (none before the first call). */
  readonly heap: HeapSource = workerHeap(() => this.#worker);

  async close(): Promise<void> {
    this.#closed = true;
    await this.#worker?.terminate();
  }
}
