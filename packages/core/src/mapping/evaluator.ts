import type { EVALUATOR_READY } from "./evaluator-child.js";

/**
 * The process that evaluates JSONata mappings, apart from the one that runs the tasks (see
 * isolation.ts for the side that starts, feeds and stops it). A mapping runs on request data
 * with the JavaScript regex engine and JSONata's built-ins, which cannot be interrupted from
 * inside: only a process that can be killed bounds them in time, and only a process boundary
 * contains a heap exhausted by one huge allocation (V8 then aborts the whole process).
 *
 * The child's program is evaluator-child.js, plain JavaScript so that the child loads no type
 * stripper; this module holds the types of what crosses the boundary and re-exports the rest.
 */
export {
  createExpression,
  EVALUATOR_ENTRY,
  EVALUATOR_ENV,
  EVALUATOR_READY,
  FORBIDDEN_FUNCTIONS,
} from "./evaluator-child.js";

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
 * `cpuMs` the CPU the child has used since it started (user and system), as it answers.
 */
export type EvaluateReply = { job: number; cpuMs: number } & EvaluateAnswer;
export type EvaluateAnswer =
  | { ok: true; json?: string }
  | { ok: false; failure: JsonataFailure }
  | { ok: false; outputTooLarge: number };

/** Sent once the child can take requests (EVALUATOR_READY), with the CPU it used to start. */
export interface EvaluatorReady {
  ready: typeof EVALUATOR_READY;
  cpuMs: number;
}
