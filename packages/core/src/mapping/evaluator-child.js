// @ts-check
import jsonata from "jsonata";

/**
 * @import { EvaluateAnswer, EvaluateReply, EvaluateRequest, EvaluatorReady, ExpressionLimits, JsonataFailure } from "./evaluator.ts"
 */

/**
 * The evaluator process's program, and the code it shares with the parent (evaluator.ts holds the
 * types and re-exports the rest). Plain JavaScript on purpose: a process that loads a .ts file
 * loads Node's type stripper too (~17 MiB of RSS for each evaluator), so what the child runs
 * imports no .ts file, at run time, and nothing but jsonata (evaluator-child.test.ts holds it so).
 *
 * The child is started on `EVALUATOR_ENTRY` with `EVALUATOR_ENV` set, and serves when it sees that
 * variable. When the functions are bundled into one file, `import.meta.url` is that file, so the
 * child runs the same bundle and serves from the same code.
 */

/** What the child is started on: this module, or the bundle it was bundled into. */
export const EVALUATOR_ENTRY = import.meta.url;

/** Set (to "1") in the child's environment only. */
export const EVALUATOR_ENV = "DVSS_MAPPING_EVALUATOR";

/** Sent once the child can take requests, with the CPU it used to start. */
export const EVALUATOR_READY = "dvss-mapping-evaluator-ready";

/**
 * JSONata functions a mapping may not use: the clock and randomness would make a replay produce
 * different bytes, and $eval would turn text from the request into an expression.
 */
export const FORBIDDEN_FUNCTIONS = /** @type {const} */ (["now", "millis", "random", "eval"]);

/**
 * CPU time this process has used since it started, in ms (user and system, all its threads).
 * @returns {number}
 */
function processCpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Parses a mapping with the guardrails on and the forbidden functions shadowed; throws JSONata's error.
 * @param {string} source
 * @param {ExpressionLimits} limits
 * @returns {jsonata.Expression}
 */
export function createExpression(source, limits) {
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

/**
 * The output's size in characters (strings and keys), counting no further than `limit`.
 * @param {unknown} value
 * @param {number} limit
 * @returns {number}
 */
function outputChars(value, limit) {
  let total = 0;
  /** @type {unknown[]} */
  const pending = [value];
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

/**
 * @param {unknown} error
 * @returns {JsonataFailure}
 */
function describeFailure(error) {
  if (typeof error !== "object" || error === null) return { message: String(error) };
  const { code, position, token, message } = /** @type {Record<string, unknown>} */ (error);
  return {
    ...(typeof code === "string" && { code }),
    ...(typeof position === "number" && { position }),
    ...(token !== undefined && { token: String(token) }),
    message: typeof message === "string" ? message : String(error),
  };
}

/**
 * The child's loop: one request at a time, compiled programs kept for the child's life.
 * @param {(reply: EvaluateReply | EvaluatorReady) => void} send
 */
function serve(send) {
  /** @type {Map<number, jsonata.Expression>} */
  const programs = new Map();

  /**
   * @param {EvaluateRequest} request
   * @returns {Promise<EvaluateReply>}
   */
  async function evaluate(request) {
    const { job } = request;
    /** @type {(answer: EvaluateAnswer) => EvaluateReply} */
    const reply = (answer) => ({ job, cpuMs: processCpuMs(), ...answer });
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

  process.on("message", (/** @type {EvaluateRequest} */ request) => {
    void evaluate(request).then(send);
  });
  // The parent is gone (or closed the pool): nothing left to serve.
  process.on("disconnect", () => process.exit(0));
  send({ ready: EVALUATOR_READY, cpuMs: processCpuMs() });
}

if (process.env[EVALUATOR_ENV] === "1" && typeof process.send === "function") {
  const send = process.send.bind(process);
  serve((reply) => send(reply));
}
