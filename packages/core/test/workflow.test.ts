import validateAsl from "asl-validator";
import { StateMachine } from "aws-local-stepfunctions";
import { describe, expect, it } from "vitest";
import { TRANSIENT_ERROR_NAMES, WRITE_CONTENTION_ERROR } from "../src/errors.ts";
import {
  type AslDefinition,
  type AslTaskState,
  buildNormalizeDefinition,
  CAUGHT_TASKS,
  CONTENDED_STATE,
  CONTENTION_RETRY,
  DEFAULT_RECONCILE_AFTER_SECONDS,
  EXPRESS_MAX_SECONDS,
  FAILURE_STAGES,
  maxExecutionSeconds,
  type NormalizeInput,
  nextStates,
  RECONCILE_MARGIN_SECONDS,
  reconcileAfterSeconds,
  TASK_NAMES,
  TASK_RESULT_KEYS,
  TASK_RESULT_PATHS,
  TASK_RETRY,
  TASK_TIMEOUT_SECONDS,
  type TaskName,
  taskWorstCaseSeconds,
  WORKFLOW_TASKS,
} from "../src/workflow.ts";

const arnOf = (task: TaskName) =>
  `arn:aws:lambda:eu-west-1:123456789012:function:dvss-test-${WORKFLOW_TASKS[task].functionName}`;

const input: NormalizeInput = {
  ingestId: "01JKQ8ZC7F3W9V0Y5X2M4N6P8R",
  vendorId: "vendorA",
  externalEventId: "inv-12345",
  rawRef: { bucket: "raw-bucket", key: "raw/vendorA/2025/02/10/01JKQ8ZC7F3W9V0Y5X2M4N6P8R.json" },
};

function taskStates(definition: AslDefinition): [string, AslTaskState][] {
  return Object.entries(definition.States).filter(
    (entry): entry is [string, AslTaskState] => entry[1].Type === "Task",
  );
}

function successorsOf(definition: AslDefinition, name: string): string[] {
  const state = definition.States[name];
  return state ? nextStates(state) : [];
}

/**
 * The states reached by following only Next from `from`, up to a terminal state; at a Choice, the
 * rule `choose` picks (default: its first rule), or its Default with "default".
 */
function pathFrom(definition: AslDefinition, from: string, choose: number | "default" = 0): string[] {
  const path = [from];
  let state = definition.States[from];
  while (state && path.length <= Object.keys(definition.States).length) {
    const next =
      state.Type === "Choice"
        ? choose === "default"
          ? state.Default
          : state.Choices[choose]?.Next
        : "Next" in state
          ? state.Next
          : undefined;
    if (next === undefined) break;
    path.push(next);
    state = definition.States[next];
  }
  return path;
}

/** Runs the definition with stand-in handlers, as the local runtime does with the real ones. */
async function execute(handlers: Partial<Record<string, (state: Record<string, unknown>) => unknown>>) {
  const calls: { state: string; input: Record<string, unknown> }[] = [];
  const definition = buildNormalizeDefinition(arnOf);
  const taskResourceLocalHandlers = Object.fromEntries(
    taskStates(definition).map(([name]) => [
      name,
      async (state: unknown) => {
        const received = state as Record<string, unknown>;
        calls.push({ state: name, input: structuredClone(received) });
        const handler = handlers[name];
        return (handler ? await handler(received) : { ok: name }) as never;
      },
    ]),
  );
  const machine = new StateMachine(definition as never, {
    validationOptions: { checkArn: true, checkPaths: true },
  });
  const execution = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers,
      retryIntervalOverrides: Object.fromEntries(taskStates(definition).map(([name]) => [name, 0])),
    },
  });
  try {
    return { output: (await execution.result) as Record<string, unknown>, calls };
  } catch (error) {
    return { error: error as Error, calls };
  }
}

function namedError(name: string, message = name): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

describe("WORKFLOW_TASKS", () => {
  it("names one function and one task handler file per task", () => {
    // prepare
    const files = ["map", "match", "apply-state", "update-status", "quarantine"];

    // act
    const handlers = TASK_NAMES.map((task) => WORKFLOW_TASKS[task].handler);
    const functionNames = new Set(TASK_NAMES.map((task) => WORKFLOW_TASKS[task].functionName));

    // assess
    expect(handlers).toEqual(files.map((file) => `packages/functions/src/tasks/${file}.handler`));
    expect(functionNames.size).toBe(TASK_NAMES.length);
    expect(WORKFLOW_TASKS.Map.functionName).toBe("MapTask");
  });
});

describe("buildNormalizeDefinition", () => {
  it("produces a definition asl-validator accepts", () => {
    // prepare
    const definition = buildNormalizeDefinition(arnOf);

    // act (the validator annotates what it is given, so it gets a copy)
    const result = validateAsl(structuredClone(definition), { checkArn: true, checkPaths: true });

    // assess
    expect(result.errorsText()).toBe("");
    expect(result.isValid).toBe(true);
    expect(definition).toMatchObject({ QueryLanguage: "JSONPath", StartAt: "Map" });
    expect(definition.Comment).not.toBe("");
  });

  it("runs the stages in order on the happy path and ends in success", () => {
    // prepare
    const definition = buildNormalizeDefinition(arnOf);

    // act
    const path = pathFrom(definition, definition.StartAt);

    // assess: Match only when Map said there is something to match (or said nothing)
    expect(path).toEqual(["Map", "NeedsMatch", "ApplyState", "Normalized"]);
    expect(pathFrom(definition, definition.StartAt, "default")).toEqual([
      "Map",
      "NeedsMatch",
      "Match",
      "ApplyState",
      "Normalized",
    ]);
    expect(definition.States.NeedsMatch).toMatchObject({
      Type: "Choice",
      Choices: [
        {
          And: [
            { Variable: "$.normalized.needsMatch", IsPresent: true },
            { Variable: "$.normalized.needsMatch", BooleanEquals: false },
          ],
          Next: "ApplyState",
        },
      ],
      Default: "Match",
    });
    expect(definition.States.Normalized?.Type).toBe("Succeed");
  });

  it("invokes each task's own function by its direct Lambda ARN", () => {
    // prepare
    const definition = buildNormalizeDefinition(arnOf);

    // act
    const resources = Object.fromEntries(
      taskStates(definition).map(([name, state]) => [name, state.Resource]),
    );

    // assess
    expect(resources).toEqual({
      Map: arnOf("Map"),
      Match: arnOf("Match"),
      ApplyState: arnOf("ApplyState"),
      Quarantine: arnOf("Quarantine"),
      MarkFailed: arnOf("UpdateStatus"),
    });
  });

  it("keeps the state and adds each task's result under its own key", () => {
    // prepare
    const definition = buildNormalizeDefinition(arnOf);

    // act
    const resultPaths = Object.fromEntries(
      taskStates(definition).map(([name, state]) => [name, state.ResultPath]),
    );

    // assess
    expect(resultPaths).toEqual({
      Map: "$.normalized",
      Match: "$.match",
      ApplyState: "$.applied",
      Quarantine: "$.quarantine",
      MarkFailed: "$.statusUpdate",
    });
    // Each result type (TaskResults) lives under the key its ResultPath names.
    for (const task of TASK_NAMES) expect(TASK_RESULT_PATHS[task]).toBe(`$.${TASK_RESULT_KEYS[task]}`);
  });

  it("retries every task on transient errors only, with capped exponential backoff and full jitter", () => {
    // prepare
    const definition = buildNormalizeDefinition(arnOf);

    // act
    const tasks = taskStates(definition);

    // assess
    expect(tasks).toHaveLength(5);
    // Pinned on purpose: a name added or dropped here changes what is retried instead of quarantined.
    expect(TRANSIENT_ERROR_NAMES).toEqual([
      "StorageUnavailableError",
      "MappingStarvedError",
      "Lambda.ServiceException",
      "Lambda.AWSLambdaException",
      "Lambda.SdkClientException",
      "Lambda.TooManyRequestsException",
      "Lambda.Unknown",
      "Lambda.ClientExecutionTimeoutException",
      "Sandbox.Timedout",
      "States.Timeout",
    ]);
    for (const [, state] of tasks) {
      expect(state.Retry[0]).toEqual({
        ErrorEquals: [...TRANSIENT_ERROR_NAMES],
        IntervalSeconds: 1,
        BackoffRate: 2,
        MaxAttempts: 3,
        MaxDelaySeconds: expect.any(Number),
        JitterStrategy: "FULL",
      });
      const retrier = state.Retry[0];
      expect(retrier?.ErrorEquals).not.toContain("States.ALL");
      expect(retrier?.ErrorEquals).not.toContain("States.TaskFailed");
      expect(retrier?.MaxDelaySeconds).toBeGreaterThanOrEqual(1);
      expect(retrier?.MaxDelaySeconds).toBeLessThanOrEqual(30);
      expect(state.TimeoutSeconds).toBeGreaterThan(0);
    }
  });

  it("waits out contention on an entity in ApplyState and never quarantines it", () => {
    // prepare
    const definition = buildNormalizeDefinition(arnOf);

    // act
    const applyState = definition.States.ApplyState as AslTaskState;
    const others = taskStates(definition).filter(([name]) => name !== "ApplyState");

    // assess: a retrier of its own, long enough to spread hundreds of writers out, with jitter
    expect(applyState.Retry[1]).toEqual({
      ErrorEquals: [WRITE_CONTENTION_ERROR],
      IntervalSeconds: CONTENTION_RETRY.intervalSeconds,
      BackoffRate: CONTENTION_RETRY.backoffRate,
      MaxAttempts: CONTENTION_RETRY.maxAttempts,
      MaxDelaySeconds: CONTENTION_RETRY.maxDelaySeconds,
      JitterStrategy: "FULL",
    });
    expect(CONTENTION_RETRY.maxAttempts).toBeGreaterThanOrEqual(10);
    // past the retries the execution fails (record still RECEIVED, the reconciler restarts it):
    // the contention catcher comes before the catch-all that quarantines
    expect(applyState.Catch?.[0]).toEqual({
      ErrorEquals: [WRITE_CONTENTION_ERROR],
      ResultPath: "$.error",
      Next: CONTENDED_STATE,
    });
    expect(definition.States[CONTENDED_STATE]).toMatchObject({ Type: "Fail", Error: WRITE_CONTENTION_ERROR });
    for (const [, state] of others) expect(state.Retry).toHaveLength(1);
  });

  it("catches every failure of a task, records the task as the stage and quarantines", () => {
    // prepare
    const definition = buildNormalizeDefinition(arnOf);

    // act
    const routes = CAUGHT_TASKS.map((stage) => {
      const state = definition.States[stage] as AslTaskState;
      const catchAll = state.Catch?.filter((catcher) => catcher.Next !== CONTENDED_STATE) ?? [];
      const catcher = catchAll[0];
      const failed = catcher ? definition.States[catcher.Next] : undefined;
      return { stage, catchers: catchAll.length, catcher, failed };
    });

    // assess
    expect(routes.map((route) => route.stage)).toEqual(["Map", "Match", "ApplyState"]);
    // A stage a quarantine entry can name: the caught tasks, and the steps Map and ApplyState report.
    expect(FAILURE_STAGES).toEqual([
      "Validate",
      "Map",
      "WriteNormalized",
      "Match",
      "ApplyState",
      "UpdateStatus",
    ]);
    for (const task of CAUGHT_TASKS) expect(FAILURE_STAGES).toContain(task);
    for (const { stage, catchers, catcher, failed } of routes) {
      expect(catchers).toBe(1);
      expect(catcher).toEqual({ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: `${stage}Failed` });
      expect(failed).toMatchObject({
        Type: "Pass",
        Result: { stage },
        ResultPath: "$.failure",
        Next: "Quarantine",
      });
    }
  });

  it("records FAILED_NORMALIZE after Quarantine and ends in success", () => {
    // prepare
    const definition = buildNormalizeDefinition(arnOf);

    // act
    const path = pathFrom(definition, "Quarantine");

    // assess
    expect(path).toEqual(["Quarantine", "OutcomeFailed", "MarkFailed", "Quarantined"]);
    expect(definition.States.OutcomeFailed).toMatchObject({
      Type: "Pass",
      Result: "FAILED_NORMALIZE",
      ResultPath: "$.outcome",
    });
    expect(definition.States.Quarantined?.Type).toBe("Succeed");
  });

  it("lets Quarantine and MarkFailed fail the execution instead of looping", () => {
    // prepare
    const definition = buildNormalizeDefinition(arnOf);

    // act
    const quarantine = definition.States.Quarantine as AslTaskState;
    const markFailed = definition.States.MarkFailed as AslTaskState;

    // assess
    expect(quarantine.Catch).toBeUndefined();
    expect(markFailed.Catch).toBeUndefined();
    expect(quarantine.Retry).toHaveLength(1);
    expect(markFailed.Retry).toHaveLength(1);
  });

  it("reaches every state from StartAt and every transition has a target", () => {
    // prepare
    const definition = buildNormalizeDefinition(arnOf);
    const reached = new Set<string>();
    const pending = [definition.StartAt];

    // act
    while (pending.length > 0) {
      const name = pending.pop() as string;
      if (reached.has(name)) continue;
      reached.add(name);
      pending.push(...successorsOf(definition, name));
    }

    // assess
    expect([...reached].sort()).toEqual(Object.keys(definition.States).sort());
  });

  it("is pure: the same ARNs give a deep-equal, JSON-serializable definition", () => {
    // prepare
    const asked: string[] = [];
    const recordingArnOf = (task: TaskName) => {
      asked.push(task);
      return arnOf(task);
    };

    // act
    const first = buildNormalizeDefinition(recordingArnOf);
    (first.States.Map as AslTaskState).Retry[0]?.ErrorEquals.push("Mutated");
    const second = buildNormalizeDefinition(arnOf);
    const third = buildNormalizeDefinition(arnOf);

    // assess
    expect(second).toEqual(third);
    expect(JSON.parse(JSON.stringify(second))).toEqual(second);
    expect((second.States.Map as AslTaskState).Retry[0]?.ErrorEquals).not.toContain("Mutated");
    expect(new Set(asked)).toEqual(new Set(TASK_NAMES));
  });
});

describe("the normalize definition, executed", () => {
  it("passes the whole state to every task and keeps each result", async () => {
    // prepare
    const mapped = {
      normalizedRef: { bucket: "normalized-bucket", key: "normalized/InventoryUpdated/x.json" },
      standardEventType: "InventoryUpdated",
      mappingVersion: "1",
    };
    const handlers = { Map: () => mapped };

    // act
    const { output, calls } = await execute(handlers);

    // assess: a Map result that does not say whether there is something to match runs Match
    expect(calls.map((call) => call.state)).toEqual(["Map", "Match", "ApplyState"]);
    expect(calls[0]?.input).toEqual(input);
    expect(calls[1]?.input).toEqual({ ...input, normalized: mapped });
    expect(calls[2]?.input).toEqual({ ...input, normalized: mapped, match: { ok: "Match" } });
    expect(output).toEqual({
      ...input,
      normalized: mapped,
      match: { ok: "Match" },
      applied: { ok: "ApplyState" },
    });
  });

  it("runs Match only when Map says there is something to match", async () => {
    const mapped = (needsMatch: boolean) => ({
      normalizedRef: { bucket: "normalized-bucket", key: "normalized/InventoryUpdated/x.json" },
      standardEventType: "InventoryUpdated",
      mappingVersion: "1",
      needsMatch,
    });

    const skipped = await execute({ Map: () => mapped(false) });
    const matched = await execute({ Map: () => mapped(true) });

    expect(skipped.calls.map((call) => call.state)).toEqual(["Map", "ApplyState"]);
    expect(skipped.calls[1]?.input).toEqual({ ...input, normalized: mapped(false) });
    expect(skipped.output).toEqual({ ...input, normalized: mapped(false), applied: { ok: "ApplyState" } });
    expect(matched.calls.map((call) => call.state)).toEqual(["Map", "Match", "ApplyState"]);
  });

  it("quarantines a permanent error at once, with the stage and the error", async () => {
    // prepare
    const handlers = {
      Map: () => {
        throw namedError("MappingError", "mapping threw");
      },
    };

    // act
    const { output, calls } = await execute(handlers);

    // assess
    expect(calls.map((call) => call.state)).toEqual(["Map", "Quarantine", "MarkFailed"]);
    expect(calls[1]?.input).toMatchObject({
      ...input,
      failure: { stage: "Map" },
      error: { Error: "MappingError" },
    });
    expect(calls[2]?.input).toMatchObject({ outcome: "FAILED_NORMALIZE", failure: { stage: "Map" } });
    expect(output?.outcome).toBe("FAILED_NORMALIZE");
  });

  it("retries a transient error, then goes on", async () => {
    // prepare
    let attempts = 0;
    const handlers = {
      Map: () => {
        attempts += 1;
        if (attempts < 3) throw namedError("StorageUnavailableError");
        return { key: "normalized/x.json" };
      },
    };

    // act
    const { output, calls } = await execute(handlers);

    // assess
    expect(attempts).toBe(3);
    expect(calls.filter((call) => call.state === "Quarantine")).toEqual([]);
    expect(output?.normalized).toEqual({ key: "normalized/x.json" });
  });

  it("retries a mapping whose evaluator was kept from the CPU (MappingStarvedError), then goes on", async () => {
    // prepare: a busy machine, twice; the mapping itself is fine
    let attempts = 0;
    const handlers = {
      Map: () => {
        attempts += 1;
        if (attempts < 3) throw namedError("MappingStarvedError");
        return { key: "normalized/x.json" };
      },
    };

    // act
    const { output, calls } = await execute(handlers);

    // assess
    expect(attempts).toBe(3);
    expect(calls.filter((call) => call.state === "Quarantine")).toEqual([]);
    expect(output?.normalized).toEqual({ key: "normalized/x.json" });
  });

  // What Lambda reports when the function itself failed (out of memory, a crashed runtime) or the
  // call to it timed out: the handler decided nothing, so the task is retried, not quarantined.
  it.each(["Lambda.Unknown", "Lambda.ClientExecutionTimeoutException"])(
    "retries %s, then goes on",
    async (name) => {
      let attempts = 0;
      const handlers = {
        ApplyState: () => {
          attempts += 1;
          if (attempts < 3) throw namedError(name);
          return { applied: true };
        },
      };

      const { output, calls } = await execute(handlers);

      expect(attempts).toBe(3);
      expect(calls.filter((call) => call.state === "Quarantine")).toEqual([]);
      expect(output?.applied).toEqual({ applied: true });
    },
  );

  it("quarantines a refused grant (AccessDeniedError) at once, with its reason", async () => {
    let attempts = 0;
    const handlers = {
      Map: () => {
        attempts += 1;
        throw namedError(
          "AccessDeniedError",
          '{"code":"ACCESS_DENIED","message":"Access denied","details":[]}',
        );
      },
    };

    const { output, calls } = await execute(handlers);

    expect(attempts).toBe(1);
    expect(calls.map((call) => call.state)).toEqual(["Map", "Quarantine", "MarkFailed"]);
    expect(calls[1]?.input).toMatchObject({
      failure: { stage: "Map" },
      error: { Error: "AccessDeniedError" },
    });
    expect(output?.outcome).toBe("FAILED_NORMALIZE");
  });

  it("quarantines a transient error once its retries are exhausted", async () => {
    // prepare
    let attempts = 0;
    const handlers = {
      ApplyState: () => {
        attempts += 1;
        throw namedError("StorageUnavailableError");
      },
    };

    // act
    const { calls, output } = await execute(handlers);

    // assess
    expect(attempts).toBe(4);
    expect(calls.at(-2)?.input).toMatchObject({
      failure: { stage: "ApplyState" },
      error: { Error: "StorageUnavailableError" },
    });
    expect(output?.outcome).toBe("FAILED_NORMALIZE");
  });

  it("fails the execution when the failure cannot be recorded", async () => {
    // prepare
    const handlers = {
      Map: () => {
        throw namedError("SchemaValidationError");
      },
      Quarantine: () => {
        throw namedError("QuarantineWriteFailed");
      },
    };

    // act
    const { error, calls } = await execute(handlers);

    // assess
    expect(error).toBeInstanceOf(Error);
    expect(calls.map((call) => call.state)).toEqual(["Map", "Quarantine"]);
  });
});

describe("how long an execution can run, from the definition", () => {
  const definition = buildNormalizeDefinition(arnOf);
  /** Waits of one retrier at their longest: interval × rate^n, capped. */
  const waits = (policy: {
    intervalSeconds: number;
    backoffRate: number;
    maxAttempts: number;
    maxDelaySeconds: number;
  }) =>
    Array.from({ length: policy.maxAttempts }, (_, n) =>
      Math.min(policy.intervalSeconds * policy.backoffRate ** n, policy.maxDelaySeconds),
    ).reduce((a, b) => a + b, 0);

  it("counts every attempt of every retrier at its timeout, and every wait at its cap", () => {
    // prepare
    const states = definition.States;

    // act
    const map = taskWorstCaseSeconds(states.Map as AslTaskState);
    const apply = taskWorstCaseSeconds(states.ApplyState as AslTaskState);

    // assess: 4 attempts of 60 s and waits of 1 + 2 + 4 s; ApplyState adds 15 contention attempts
    expect(map).toBe(4 * 60 + 7);
    expect(apply).toBe(
      (1 + TASK_RETRY.maxAttempts + CONTENTION_RETRY.maxAttempts) * TASK_TIMEOUT_SECONDS +
        waits(TASK_RETRY) +
        waits(CONTENTION_RETRY),
    );
    expect(waits(CONTENTION_RETRY)).toBeCloseTo(92.78, 2);
  });

  it("takes the worst path, through the failure path after ApplyState, and bounds Express at 5 minutes", () => {
    // prepare
    const task = (name: string) => taskWorstCaseSeconds(definition.States[name] as AslTaskState);

    // act
    const standard = maxExecutionSeconds(definition, "STANDARD");
    const express = maxExecutionSeconds(definition, "EXPRESS");

    // assess: every stage at its worst, through Match, ApplyState failing into Quarantine and MarkFailed
    const path = ["Map", "Match", "ApplyState", "Quarantine", "MarkFailed"];
    expect(standard).toBeCloseTo(
      path.map(task).reduce((a, b) => a + b, 0),
      6,
    );
    expect(standard).toBeGreaterThan(30 * 60);
    expect(express).toBe(EXPRESS_MAX_SECONDS);
  });

  it("follows the definition: one more contention attempt makes the longest execution longer", () => {
    // prepare
    const longer = structuredClone(definition);
    const retriers = (longer.States.ApplyState as AslTaskState).Retry;
    (retriers[1] as AslTaskState["Retry"][number]).MaxAttempts += 1;

    // act
    const before = maxExecutionSeconds(definition, "STANDARD");
    const after = maxExecutionSeconds(longer, "STANDARD");

    // assess
    expect(after - before).toBeCloseTo(TASK_TIMEOUT_SECONDS + CONTENTION_RETRY.maxDelaySeconds, 6);
  });

  it("has the reconciler wait out the longest execution before starting another (not the 120 s it used)", () => {
    // act
    const express = reconcileAfterSeconds(definition, "EXPRESS");
    const standard = reconcileAfterSeconds(definition, "STANDARD");

    // assess
    expect(express).toBe(EXPRESS_MAX_SECONDS + RECONCILE_MARGIN_SECONDS);
    expect(DEFAULT_RECONCILE_AFTER_SECONDS).toBe(express);
    expect(standard).toBe(Math.ceil(maxExecutionSeconds(definition, "STANDARD")) + RECONCILE_MARGIN_SECONDS);
    expect(express).toBeGreaterThan(120);
  });

  it("refuses a definition that loops, which has no longest execution", () => {
    // prepare
    const looping = structuredClone(definition);
    (looping.States.ApplyState as AslTaskState).Next = "Map";

    // act and assess
    expect(() => maxExecutionSeconds(looping, "STANDARD")).toThrow(/loops through/);
  });
});
