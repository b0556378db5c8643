import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as errors from "../src/errors.ts";
import {
  DVSS_ERROR_CLASSES,
  DvssError,
  ERROR_CODES,
  ERROR_POLICY,
  TRANSIENT_ERROR_NAMES,
  WRITE_CONTENTION_ERROR,
} from "../src/errors.ts";
import { decodeTaskFailure, encodeTaskFailure } from "../src/failures.ts";
import { buildNormalizeDefinition, TASK_NAMES } from "../src/workflow.ts";

type ErrorClass = new (message: string, more: never, options?: errors.DvssErrorOptions) => DvssError;

// Every class errors.ts exports that extends DvssError (constructed with a message, a second
// argument for the few that take one, and options).
const exported = (Object.values(errors) as unknown[]).filter(
  (value): value is ErrorClass => typeof value === "function" && value.prototype instanceof DvssError,
);
const instances = exported.map((ErrorClass) => new ErrorClass("message", 1 as never));
const namesOf = (transience: errors.Transience) =>
  instances.filter((error) => error.transience === transience).map((error) => error.name);

describe("the error policy", () => {
  it.each([...ERROR_CODES])("%s has an HTTP status and a transience", (code) => {
    const policy = ERROR_POLICY[code];

    expect([400, 401, 403, 404, 409, 413, 415, 429, 500, 503]).toContain(policy.status);
    expect(["permanent", "transient", "contention"]).toContain(policy.transience);
    expect(new DvssError(code, "message")).toMatchObject(policy);
  });

  it("has a row for every code and no other", () => {
    expect(Object.keys(ERROR_POLICY).sort()).toEqual([...ERROR_CODES].sort());
  });

  it("lists every DvssError class errors.ts exports, each with a name of its own", () => {
    expect(new Set(DVSS_ERROR_CLASSES)).toEqual(new Set(exported));
    expect(new Set(instances.map((error) => error.name)).size).toBe(instances.length);
    for (const error of instances) expect(ERROR_CODES).toContain(error.code);
  });

  it("retries as transient exactly the transient classes' names, then the platform's", () => {
    const platform = TRANSIENT_ERROR_NAMES.filter((name) => /^(Lambda|Sandbox|States)\./.test(name));

    expect(TRANSIENT_ERROR_NAMES).toEqual([...namesOf("transient"), ...platform]);
    expect(namesOf("transient")).toEqual(["StorageUnavailableError", "MappingStarvedError"]);
    expect(namesOf("contention")).toEqual([WRITE_CONTENTION_ERROR]);
  });

  it("is never bypassed: a code that is not permanent is raised through its class, never the base class", () => {
    const packages = join(import.meta.dirname, "../..");
    const raised = readdirSync(packages).flatMap((pkg) =>
      (readdirSync(join(packages, pkg, "src"), { recursive: true }) as string[])
        .filter((file) => file.endsWith(".ts"))
        .flatMap((file) => [
          ...readFileSync(join(packages, pkg, "src", file), "utf8").matchAll(
            /new DvssError\(\s*"([A-Z_]+)"/g,
          ),
        ])
        .map((match) => match[1] as errors.ErrorCode),
    );

    expect(raised.length).toBeGreaterThan(0);
    for (const code of raised) expect(ERROR_POLICY[code].transience, code).toBe("permanent");
  });

  it("is the workflow's Retry list, on every task", () => {
    const definition = buildNormalizeDefinition((task) => `arn:aws:lambda:::function:${task}`);

    const tasks = Object.entries(definition.States).flatMap(([name, state]) =>
      state.Type === "Task" ? [[name, state] as const] : [],
    );

    expect(new Set(tasks.map(([, state]) => state.Resource.split(":").at(-1)))).toEqual(new Set(TASK_NAMES));
    for (const [name, state] of tasks) {
      expect(state.Retry[0]?.ErrorEquals).toEqual([...TRANSIENT_ERROR_NAMES]);
      const contention = state.Retry.slice(1).flatMap((retrier) => retrier.ErrorEquals);
      expect(contention).toEqual(name === "ApplyState" ? namesOf("contention") : []);
    }
  });
});

describe("a task failure, encoded then decoded", () => {
  it.each(exported.map((ErrorClass) => [ErrorClass.name, ErrorClass] as const))(
    "%s: comes back as it went, named for the Retry its transience decides",
    (_, ErrorClass) => {
      const details = [{ path: "payload.qty", message: "must be integer" }];
      // RateLimitedError and IdempotencyConflictError take a value before the options.
      const error =
        ErrorClass.length > 2
          ? new ErrorClass("it failed", 1 as never, { details })
          : new ErrorClass("it failed", { details } as never);

      const { reported } = encodeTaskFailure(error, "Validate");
      // What Step Functions records: Lambda's error document around the reported message.
      const cause = JSON.stringify({ errorType: reported.name, errorMessage: reported.message });

      expect(decodeTaskFailure(reported.name, cause)).toEqual({
        code: error.code,
        message: "it failed",
        details,
        stage: "Validate",
        reported: true,
      });
      expect(reported.name).toBe(error.name);
      expect(TRANSIENT_ERROR_NAMES.includes(reported.name)).toBe(error.transience === "transient");
    },
  );

  it("decodes what no task reported (a timeout) by its States error", () => {
    expect(decodeTaskFailure("States.Timeout", "")).toEqual({
      code: "TIMEOUT",
      message: "States.Timeout",
      details: [],
      reported: false,
    });
  });
});
