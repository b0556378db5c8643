import jsonata from "jsonata";

/**
 * The process that evaluates JSONata mappings, apart from the one that runs the tasks (see
 * isolation.ts for the side that starts, feeds and stops it). A mapping runs on request data
 * with the JavaScript regex engine and JSONata's built-ins, which cannot be interrupted from
 * inside: only a process that can be killed bounds them in time, and only a process boundary
 * contains a heap exhausted by one huge allocation (V8 then aborts the whole process).
 *
 * This module is both the library the parent imports and the child's program: the child is
 * started on `EVALUATOR_ENTRY` with `EVALUATOR_ENV` set, and serves when it sees that variable.
 * When the functions are bundled into one file, `import.meta.url` is that file, so the child
 * runs the same bundle and serves from the same code.
 */

/** What the child is started on: this module, or the bundle it was bundled into. */
export const EVALUATOR_ENTRY = import.meta.url;

/** Set (to "1") in the child's environment only. */
export const EVALUATOR_ENV = "DVSS_MAPPING_EVALUATOR";

/**
 * JSONata functions a mapping may not use: the clock and randomness would make a replay produce
 * different bytes, and $eval would turn text from the request into an expression.
 */
export const FORBIDDEN_FUNCTIONS = ["now", "millis", "random", "eval"] as const;

/**
 * An evaluation's guardrails. JSONata checks depth and sequences at every step; the time limit is
 * held by the parent (isolation.ts), on the CPU the evaluation used, since a step can last as long
 * as one regex or built-in call and a wall clock cannot tell a slow mapping from a busy machine.
 */
export interface ExpressionLimits {
  timeoutMs: number;
  maxDepth: number;
  maxSequence: number;
}

/** CPU time this process has used since it started, in ms (user and system, all its threads). */
export function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Parses a mapping with the guardrails on and the forbidden functions shadowed; throws JSONata's error. */
export function createExpression(source: string, limits: ExpressionLimits): jsonata.Expression {
  // No `timeout`: JSONata's own counts the wall clock, and would stop a cheap mapping that merely
  // waited for the CPU on a busy machine.
  const expression = jsonata(source, { stack: limits.maxDepth, sequence: limits.maxSequence });
  // Belt and braces behind the check at load (compile.ts): no path can reach the real ones.
  for (const name of FORBIDDEN_FUNCTIONS) {
    expression.registerFunction(name, () => {
      throw { code: "DVSS0001", message: `$${name} is not allowed in a mapping` };
    });
  }
  return expression;
}

/** A JSONata error as it crosses the process boundary. */
export interface JsonataFailure {
  code?: string;
  position?: number;
  token?: string;
  message?: string;
}

/** Parent → child: evaluate `program` on `input`. The source travels once per child and program. */
export interface EvaluateRequest {
  job: number;
  program: number;
  source?: string;
  limits: ExpressionLimits;
  /** Largest output, counted in characters of its strings and keys, the child sends back. */
  maxOutputChars: number;
  input: unknown;
}

/**
 * Child → parent. `json` is the output as JSON text (absent when the mapping produced nothing);
 * `cpuMs` the CPU the child has used since it started (processCpuMs), as it answers.
 */
export type EvaluateReply = { job: number; cpuMs: number } & EvaluateAnswer;
type EvaluateAnswer =
  | { ok: true; json?: string }
  | { ok: false; failure: JsonataFailure }
  | { ok: false; outputTooLarge: number };

/** Sent once the child can take requests, with the CPU it used to start. */
export const EVALUATOR_READY = "dvss-mapping-evaluator-ready";
export interface EvaluatorReady {
  ready: typeof EVALUATOR_READY;
  cpuMs: number;
}

/** The output's size in characters (strings and keys), counting no further than `limit`. */
export function outputChars(value: unknown, limit: number): number {
  let total = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0 && total <= limit) {
    const item = pending.pop();
    if (typeof item === "string") {
      // A string's length is known without flattening it: a $pad of 300,000,000 is counted, not built.
      total += item.length;
    } else if (Array.isArray(item)) {
      total += item.length;
      for (const element of item) pending.push(element);
    } else if (typeof item === "object" && item !== null) {
      for (const [key, child] of Object.entries(item)) {
        total += key.length;
        pending.push(child);
      }
    } else {
      total += 1;
    }
  }
  return total;
}

function describeFailure(error: unknown): JsonataFailure {
  if (typeof error !== "object" || error === null) return { message: String(error) };
  const { code, position, token, message } = error as Record<string, unknown>;
  return {
    ...(typeof code === "string" && { code }),
    ...(typeof position === "number" && { position }),
    ...(token !== undefined && { token: String(token) }),
    message: typeof message === "string" ? message : String(error),
  };
}

/** The child's loop: one request at a time, compiled programs kept for the child's life. */
function serve(send: (reply: unknown) => void): void {
  const programs = new Map<number, jsonata.Expression>();

  async function evaluate(request: EvaluateRequest): Promise<EvaluateReply> {
    const { job } = request;
    const reply = (answer: EvaluateAnswer): EvaluateReply => ({ job, cpuMs: processCpuMs(), ...answer });
    try {
      let expression = programs.get(request.program);
      if (!expression) {
        if (request.source === undefined) throw new Error(`program ${request.program} was never sent`);
        expression = createExpression(request.source, request.limits);
        programs.set(request.program, expression);
      }
      const output = await expression.evaluate(request.input);
      const chars = outputChars(output, request.maxOutputChars);
      if (chars > request.maxOutputChars) return reply({ ok: false, outputTooLarge: chars });
      const json = JSON.stringify(output);
      return reply(json === undefined ? { ok: true } : { ok: true, json });
    } catch (error) {
      return reply({ ok: false, failure: describeFailure(error) });
    }
  }

  process.on("message", (request: EvaluateRequest) => {
    void evaluate(request).then(send);
  });
  // The parent is gone (or closed the pool): nothing left to serve.
  process.on("disconnect", () => process.exit(0));
  const ready: EvaluatorReady = { ready: EVALUATOR_READY, cpuMs: processCpuMs() };
  send(ready);
}

if (process.env[EVALUATOR_ENV] === "1" && typeof process.send === "function") {
  const send = process.send.bind(process);
  serve((reply) => send(reply));
}
