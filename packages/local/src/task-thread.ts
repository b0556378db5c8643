import { Worker } from "node:worker_threads";
import type { TaskReply, TaskRequest } from "./task-worker.ts";

/** The main thread's side of task-worker.ts: calls a handler there and answers with its output or error. */
export class TaskThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve(output: unknown): void; reject(error: Error): void }>();
  #next = 0;

  constructor() {
    // Started after the runtime exported its environment: the thread gets a copy of it.
    this.#worker = new Worker(new URL("./task-worker.ts", import.meta.url), { name: "tasks" });
    this.#worker.on("message", (reply: TaskReply) => {
      const call = this.#pending.get(reply.id);
      if (!call) return;
      this.#pending.delete(reply.id);
      if (reply.ok) call.resolve(reply.output);
      else call.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name }));
    });
    const failAll = (error: Error) => {
      for (const call of this.#pending.values()) call.reject(error);
      this.#pending.clear();
    };
    this.#worker.on("error", failAll);
    this.#worker.on("exit", (code) => failAll(new Error(`The task thread stopped (exit ${code})`)));
  }

  invoke(handler: string, functionName: string, input: unknown): Promise<unknown> {
    const id = this.#next++;
    const request: TaskRequest = { id, handler, functionName, input };
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
