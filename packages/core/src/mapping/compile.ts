import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type jsonata from "jsonata";
import type { Envelope } from "../envelope.ts";
import { type FieldIssue, MappingError, SchemaValidationError, VendorDefinitionError } from "../errors.ts";
import { type StandardEventData, type StandardEventType, validateStandardEvent } from "../standard-events.ts";
import { type MappingVersionDefinition, mappingId } from "./definitions.ts";
import { createExpression, FORBIDDEN_FUNCTIONS } from "./evaluator.ts";
import { type MappingPool, mappingProgram, sharedMappingPool } from "./isolation.ts";
import { mappingRegexIssues, schemaRegexIssues } from "./regex-check.ts";

export { FORBIDDEN_FUNCTIONS };

// The CommonJS module is the plugin itself; its typings only describe the `default` property.
const addFormats = ((addFormatsModule as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => void;

/**
 * Bounds on one JSONata evaluation. The time limit counts the CPU the evaluation used, with a
 * ceiling on the wall clock: the evaluation runs in its own process (isolation.ts), killed when
 * its time is up, even inside one regex or built-in call. JSONata's own guardrails check depth
 * and sequences at every step.
 */
export interface MappingLimits {
  /** Time (CPU, past as much wall clock) one evaluation may take before it is stopped (isolation.ts). */
  timeoutMs: number;
  /** How deeply expressions may nest while evaluating (runaway recursion). */
  maxDepth: number;
  /** Longest sequence an evaluation may build. */
  maxSequence: number;
  /** Largest output, in characters of its strings and keys (a standard event is a few hundred). */
  maxOutputChars: number;
}

// A mapping of a 256 KiB payload takes milliseconds; these only stop a runaway expression.
export const DEFAULT_MAPPING_LIMITS: MappingLimits = {
  timeoutMs: 1_000,
  maxDepth: 500,
  maxSequence: 100_000,
  maxOutputChars: 1_048_576,
};

export interface CompileOptions {
  /** Where the mapping is evaluated; default the process's shared pool. */
  pool?: MappingPool;
  /**
   * Refuse regexes (mapping literals, schema patterns) that repeat a repetition, such as
   * `/^(a+)+$/` (regex-check.ts). Default on: publish and check refuse them. The engine turns it
   * off: a version already published keeps working, bounded by the evaluator at run time.
   */
  refuseNestedRepetition?: boolean;
}

export type MappedEvent = {
  [T in StandardEventType]: { standardEventType: T; data: StandardEventData<T>; mappingVersion: string };
}[StandardEventType];

/** One vendor event type version, ready to run: compiled once, reused for every event. */
export interface CompiledMapping {
  /** `vendorId/eventType/version`, as errors and logs name it. */
  readonly id: string;
  readonly vendorId: string;
  readonly eventType: string;
  readonly version: string;
  /** Throws SchemaValidationError with one `payload.<path>` detail per violation. */
  validatePayload(payload: unknown): void;
  /** Runs the mapping on the whole envelope; throws MappingError when it throws or its output is invalid. */
  map(envelope: Envelope): Promise<MappedEvent>;
}

interface JsonataFailure {
  code?: string;
  position?: number;
  token?: string;
  message?: string;
}

/** `T2001 at position 12, token "+": The left side of the "+" operator must evaluate to a number`. */
export function describeJsonataError(error: unknown): string {
  const failure = (
    typeof error === "object" && error !== null ? error : { message: String(error) }
  ) as JsonataFailure;
  const position = failure.position === undefined ? "" : ` at position ${failure.position}`;
  const token = failure.token === undefined ? "" : `, token ${JSON.stringify(failure.token)}`;
  return `${failure.code ?? "Error"}${position}${token}: ${failure.message ?? "unknown error"}`;
}

function unescapePointer(segment: string): string {
  return segment.replaceAll("~1", "/").replaceAll("~0", "~");
}

function payloadIssue(error: ErrorObject): FieldIssue {
  const segments =
    error.instancePath === "" ? [] : error.instancePath.split("/").slice(1).map(unescapePointer);
  const params = error.params as Record<string, unknown>;
  let message = error.message ?? error.keyword;
  if (error.keyword === "required") {
    segments.push(String(params.missingProperty));
    message = "is required";
  } else if (error.keyword === "additionalProperties" || error.keyword === "unevaluatedProperties") {
    segments.push(String(params.additionalProperty ?? params.unevaluatedProperty));
    message = "unknown field";
  } else if (error.keyword === "enum" && Array.isArray(params.allowedValues)) {
    message = `must be one of ${params.allowedValues.map((value) => JSON.stringify(value)).join(", ")}`;
  }
  return { path: ["payload", ...segments].join("."), message };
}

function compilePayloadSchema(id: string, schema: Record<string, unknown>): ValidateFunction {
  // One Ajv per version: schemas of different vendors may reuse the same $id.
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats(ajv);
  try {
    return ajv.compile(schema);
  } catch (cause) {
    throw new VendorDefinitionError(`Payload schema ${id} is invalid: ${(cause as Error).message}`, {
      cause,
    });
  }
}

function forbiddenReferences(node: unknown, found: { name: string; position: number | undefined }[] = []) {
  if (Array.isArray(node)) {
    for (const item of node) forbiddenReferences(item, found);
  } else if (typeof node === "object" && node !== null) {
    const { type, value, position } = node as { type?: unknown; value?: unknown; position?: number };
    if (type === "variable" && (FORBIDDEN_FUNCTIONS as readonly unknown[]).includes(value)) {
      found.push({ name: String(value), position });
    }
    for (const child of Object.values(node)) forbiddenReferences(child, found);
  }
  return found;
}

/** Parses the mapping and refuses what it may not use; the evaluator compiles the same source again. */
function checkExpression(id: string, source: string, limits: MappingLimits, refuseNested: boolean): void {
  let expression: jsonata.Expression;
  try {
    expression = createExpression(source, limits);
  } catch (cause) {
    throw new VendorDefinitionError(`Mapping ${id} does not compile: ${describeJsonataError(cause)}`, {
      cause,
      details: [{ path: "mapping", message: describeJsonataError(cause) }],
    });
  }
  const forbidden = forbiddenReferences(expression.ast());
  if (forbidden.length > 0) {
    const details = forbidden.map(({ name, position }) => ({
      path: "mapping",
      message: `$${name} is not allowed${position === undefined ? "" : ` (position ${position})`}: a mapping must give the same output for the same envelope`,
    }));
    throw new VendorDefinitionError(`Mapping ${id} uses ${forbidden.map((f) => `$${f.name}`).join(", ")}`, {
      details,
    });
  }
  const nested = refuseNested ? mappingRegexIssues(expression.ast()) : [];
  if (nested.length > 0) {
    throw new VendorDefinitionError(
      `Mapping ${id} uses a regular expression that can take exponential time: ${nested.map((d) => d.message).join("; ")}`,
      { details: nested },
    );
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Compiles the payload schema (ajv, draft 2020-12) and the JSONata mapping of one version. */
export function compileMappingVersion(
  definition: MappingVersionDefinition,
  limits: MappingLimits = DEFAULT_MAPPING_LIMITS,
  options: CompileOptions = {},
): CompiledMapping {
  const { vendorId, eventType, version } = definition;
  const id = mappingId(vendorId, eventType, version);
  const refuseNested = options.refuseNestedRepetition ?? true;
  const nestedInSchema = refuseNested ? schemaRegexIssues(definition.payloadSchema) : [];
  if (nestedInSchema.length > 0) {
    throw new VendorDefinitionError(
      `Payload schema ${id} uses a regular expression that can take exponential time: ${nestedInSchema.map((d) => `${d.path} ${d.message}`).join("; ")}`,
      { details: nestedInSchema },
    );
  }
  const validator = compilePayloadSchema(id, definition.payloadSchema);
  checkExpression(id, definition.mapping, limits, refuseNested);
  const { timeoutMs, maxDepth, maxSequence, maxOutputChars } = limits;
  const program = mappingProgram(definition.mapping, { timeoutMs, maxDepth, maxSequence });

  return {
    id,
    vendorId,
    eventType,
    version,

    validatePayload(payload) {
      if (validator(payload)) return;
      const details = (validator.errors ?? []).map(payloadIssue);
      throw new SchemaValidationError(
        `Payload does not match ${id}: ${details.map((d) => `${d.path} ${d.message}`).join("; ")}`,
        { details },
      );
    },

    async map(envelope) {
      // Stops (time, memory, output size) are thrown as MappingTimeoutError / MappingResourceError.
      const evaluation = await (options.pool ?? sharedMappingPool()).evaluate({
        mappingId: id,
        vendorId,
        program,
        maxOutputChars,
        input: envelope,
      });
      if (!evaluation.ok) {
        const reason = describeJsonataError(evaluation.failure);
        throw new MappingError(`Mapping ${id} failed: ${reason}`, {
          cause: evaluation.failure,
          details: [{ path: "mapping", message: reason }],
        });
      }
      const output = evaluation.output;
      if (!isPlainObject(output)) {
        throw new MappingError(`Mapping ${id} must produce an object {eventType, data}`, {
          details: [
            { path: "$", message: `must be an object {eventType, data}, got ${describeValue(output)}` },
          ],
        });
      }
      const details: FieldIssue[] = Object.keys(output)
        .filter((key) => key !== "eventType" && key !== "data")
        .map((key) => ({ path: key, message: "unknown field" }));
      if (!Object.hasOwn(output, "data")) details.push({ path: "data", message: "is required" });
      if (details.length > 0) {
        throw new MappingError(
          `Mapping ${id} produced an invalid output: ${details.map((d) => `${d.path} ${d.message}`).join("; ")}`,
          { details },
        );
      }
      try {
        const event = validateStandardEvent(output.eventType, output.data);
        return {
          standardEventType: event.eventType,
          data: event.data,
          mappingVersion: version,
        } as MappedEvent;
      } catch (cause) {
        if (!(cause instanceof MappingError)) throw cause;
        throw new MappingError(`Mapping ${id} produced an invalid standard event: ${cause.message}`, {
          cause,
          details: cause.details,
        });
      }
    },
  };
}

function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "an array";
  return value === null ? "null" : typeof value;
}
