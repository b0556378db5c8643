import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import type { Envelope } from "../src/envelope.ts";
import {
  type DvssError,
  MappingResourceError,
  MappingStarvedError,
  MappingTimeoutError,
  TRANSIENT_ERROR_NAMES,
  VendorDefinitionError,
} from "../src/errors.ts";
import { compileMappingVersion } from "../src/mapping/compile.ts";
import type { MappingVersionDefinition } from "../src/mapping/definitions.ts";
import { createMappingEngine, type MappingEngine } from "../src/mapping/engine.ts";
import { EVALUATOR_SEMI_SPACE_MB, MappingPool } from "../src/mapping/isolation.ts";
import { createInMemorySource } from "../src/mapping/memory-source.ts";
import { nestedRepetition } from "../src/mapping/regex-check.ts";

// Mappings run in evaluator processes; this file's pool is its own and is closed at the end. A
// hostile mapping is stopped once it has used its time limit in CPU; the ceiling on the wall clock,
// 40 times the limit here (10 in production), keeps a loaded test machine, where it gets a small
// share of a core, from turning that stop into MappingStarvedError.
const pool = new MappingPool({ size: 2, maxWallFactor: 40 });
afterAll(() => pool.close());

const dataWith = (warehouseId: string) =>
  `{"eventType": "InventoryUpdated", "data": {"warehouseId": ${warehouseId}, "sku": payload.sku, "quantityOnHand": payload.qty}}`;

/** One vendor with one version of one event type, mapped by `mapping` (in this file's pool by default). */
function engineFor(
  vendorId: string,
  mapping: string,
  limits?: { timeoutMs: number },
  inPool: MappingPool = pool,
): MappingEngine {
  const version: MappingVersionDefinition = {
    vendorId,
    eventType: "inventory_update",
    version: "1",
    payloadSchema: { type: "object" },
    mapping,
  };
  return createMappingEngine({
    source: createInMemorySource({
      vendors: [{ vendorId, name: vendorId, priority: 50, rateLimitPerSecond: 100 }],
      versions: [version],
    }),
    pool: inPool,
    ...(limits && { limits }),
  });
}

function envelope(vendorId: string, warehouse: string): Envelope {
  return {
    vendorId,
    externalEventId: "e-1",
    eventType: "inventory_update",
    occurredAt: "2026-01-30T20:15:12Z",
    payload: { sku: "ABC-001", qty: 12, warehouse },
  };
}

/** Settles with the error (or fails the test if the mapping succeeded), noting when it ended. */
async function settle(promise: Promise<unknown>, finished: string[], name: string): Promise<DvssError> {
  try {
    await promise;
  } catch (error) {
    finished.push(name);
    return error as DvssError;
  }
  finished.push(name);
  throw new Error(`${name} was expected to fail`);
}

// 2^33 backtracking steps: about 140 s of one core if nothing stops it.
const CATASTROPHIC_REGEX = dataWith('$contains(payload.warehouse, /^(a+)+$/) ? "ROA" : "OTHER"');
const HOSTILE_INPUT = `${"a".repeat(32)}!`;

describe("mapping isolation", () => {
  it("stops a catastrophic regex at the time limit with a truthful error, while another vendor's mapping runs first", async () => {
    // prepare
    // A 2 s limit (1 s in production), counted in CPU: the normal mapping must come first even
    // while a spare evaluator is still starting on a busy machine.
    const hostile = engineFor("vendorH", CATASTROPHIC_REGEX, { timeoutMs: 2_000 });
    const normal = engineFor("vendorN", dataWith("payload.warehouse"));
    const finished: string[] = [];
    const started = Date.now();

    // act
    const hostileOutcome = settle(
      hostile.mapEvent(envelope("vendorH", HOSTILE_INPUT), "1"),
      finished,
      "hostile",
    );
    await delay(200); // the hostile mapping is inside its regex by now
    const mapped = await normal.mapEvent(envelope("vendorN", "ROA"), "1");
    finished.push("normal");
    const error = await hostileOutcome;

    // assess
    expect(mapped.data).toEqual({ warehouseId: "ROA", sku: "ABC-001", quantityOnHand: 12 });
    expect(finished).toEqual(["normal", "hostile"]);
    expect(error.code).toBe("MAPPING_TIMEOUT");
    expect(error).toBeInstanceOf(MappingTimeoutError);
    expect(error.message).toBe("Mapping vendorH/inventory_update/1 ran longer than 2000 ms and was stopped");
    expect(error.details).toContainEqual({ path: "mappingVersion", message: "vendorH/inventory_update/1" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(Date.now() - started).toBeLessThan(25_000);
  });

  it("refuses a $pad bomb by the size of its output, which is counted without being built", async () => {
    // prepare
    const bomb = engineFor("vendorP", dataWith('$pad("", 300000000)'));
    const finished: string[] = [];

    // act
    const error = await settle(bomb.mapEvent(envelope("vendorP", "ROA"), "1"), finished, "bomb");

    // assess
    expect(error.code).toBe("MAPPING_RESOURCE_LIMIT");
    expect(error).toBeInstanceOf(MappingResourceError);
    expect(error.message).toBe(
      "Mapping vendorP/inventory_update/1 produced an output of more than 1048576 characters and was stopped",
    );
    expect(error.details).toContainEqual({ path: "mappingVersion", message: "vendorP/inventory_update/1" });
  });

  it("starts its evaluators with a bounded heap: the old generation of heapMb, small semi-spaces", async () => {
    await engineFor("vendorH", dataWith("payload.warehouse")).mapEvent(envelope("vendorH", "ROA"), "1");

    // This process's children that run the evaluator, by their command lines.
    const evaluators = readdirSync("/proc")
      .filter((pid) => /^\d+$/.test(pid))
      .flatMap((pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
          const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
          const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
          return parent === process.pid && args.some((arg) => arg.endsWith("evaluator-child.js"))
            ? [args]
            : [];
        } catch {
          return []; // gone meanwhile
        }
      });

    expect(evaluators.length).toBeGreaterThan(0);
    for (const args of evaluators) {
      expect(args).toContain(`--max-old-space-size=${pool.heapMb}`);
      expect(args).toContain(`--max-semi-space-size=${EVALUATOR_SEMI_SPACE_MB}`);
    }
  });

  it("stops a mapping that exhausts its evaluator's memory, replaces the evaluator, and keeps mapping", async () => {
    // prepare: $length splits the 300,000,000 characters into an array, far beyond the evaluator's heap
    const bomb = engineFor("vendorM", dataWith('$string($length($pad("", 300000000)))'), {
      timeoutMs: 20_000,
    });
    const normal = engineFor("vendorN", dataWith("payload.warehouse"));
    const finished: string[] = [];

    // act
    const error = await settle(bomb.mapEvent(envelope("vendorM", "ROA"), "1"), finished, "bomb");
    const after = await normal.mapEvent(envelope("vendorN", "CDG"), "1");

    // assess
    expect(error.code).toBe("MAPPING_RESOURCE_LIMIT");
    expect(error).toBeInstanceOf(MappingResourceError);
    expect(error.message).toBe(
      `Mapping vendorM/inventory_update/1 needed more than its ${pool.heapMb} MiB of memory and was stopped`,
    );
    expect(after.data).toMatchObject({ warehouseId: "CDG" });
  });

  it("keeps one vendor's slow events to part of the pool, so another vendor's event is not queued behind them", async () => {
    // prepare
    const hostile = engineFor("vendorH", CATASTROPHIC_REGEX, { timeoutMs: 500 });
    const normal = engineFor("vendorN", dataWith("payload.warehouse"));
    const finished: string[] = [];

    // act: three hostile events at once, then one of another vendor
    const hostileOutcomes = [1, 2, 3].map((n) =>
      settle(hostile.mapEvent(envelope("vendorH", HOSTILE_INPUT), "1"), finished, `hostile-${n}`),
    );
    await delay(100);
    await normal.mapEvent(envelope("vendorN", "ROA"), "1");
    finished.push("normal");
    const errors = await Promise.all(hostileOutcomes);

    // assess
    expect(finished[0]).toBe("normal");
    expect(errors.map((error) => error.code)).toEqual([
      "MAPPING_TIMEOUT",
      "MAPPING_TIMEOUT",
      "MAPPING_TIMEOUT",
    ]);
  });
});

describe("regexes that repeat a repetition", () => {
  it.each([
    ["^(a+)+$", "(a+)+"],
    ["(\\w+\\s?)*$", "(\\w+\\s?)*"],
    ["^(?:x*){2,}", "(?:x*){2,}"],
    ["^(\\d{1,3})+$", "(\\d{1,3})+"],
    ["^(a+b?)+$", "(a+b?)+"],
    ["^(?:a|b+)+$", "(?:a|b+)+"],
    ["^[a-z]+(-[a-z]+)*$", undefined],
    ["((ab)+c)*", undefined],
    ["^(\\d+,)*\\d+$", undefined],
    ["^(\\d{3})+$", undefined],
    ["^(\\w+\\.)+com$", undefined],
    ["^[1-9][0-9]{0,14}$", undefined],
    ["[(a+)]+", undefined],
    ["\\(a+\\)+", undefined],
  ])("finds the nested repetition of /%s/: %s", (source, nested) => {
    expect(nestedRepetition(source)).toBe(nested);
  });

  const definition = (mapping: string, payloadSchema: Record<string, unknown> = { type: "object" }) => ({
    vendorId: "vendorH",
    eventType: "inventory_update",
    version: "1",
    payloadSchema,
    mapping,
  });

  it("are refused when a version is compiled for publish or check, naming the regex", () => {
    // act
    const inMapping = () => compileMappingVersion(definition(CATASTROPHIC_REGEX));
    const inSchema = () =>
      compileMappingVersion(
        definition(dataWith("payload.warehouse"), {
          type: "object",
          properties: { warehouse: { type: "string", pattern: "^(\\w+\\s?)*$" } },
        }),
      );

    // assess
    expect(inMapping).toThrow(VendorDefinitionError);
    expect(inMapping).toThrow(
      "Mapping vendorH/inventory_update/1 uses a regular expression that can take exponential time: /^(a+)+$/ repeats (a+)+",
    );
    expect(inSchema).toThrow(VendorDefinitionError);
    expect(inSchema).toThrow(
      /payloadSchema\.properties\.warehouse\.pattern \/\^\(\\w\+\\s\?\)\*\$\/ repeats/,
    );
  });

  it("are still loaded by the engine, so a version already published keeps mapping, bounded at run time", async () => {
    // act
    const mapped = await engineFor("vendorH", CATASTROPHIC_REGEX).mapEvent(envelope("vendorH", "aaa"), "1");

    // assess
    expect(mapped.data).toMatchObject({ warehouseId: "ROA" });
  });
});

/** Whether a process is still running (a killed one may linger a moment as a zombie). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("an evaluator kept from the CPU", () => {
  // Its own pool, so that the one evaluator at work is the one held: no spare started meanwhile.
  const starving = new MappingPool({ size: 2, spare: false, maxWallFactor: 10 });
  afterAll(() => starving.close());
  const cheap = engineFor("vendorS", dataWith("payload.warehouse"), { timeoutMs: 300 }, starving);

  /** Stops (SIGSTOP) every evaluator of the pool, warmed up first: none gets any CPU until it is let go. */
  async function holdEvaluators(): Promise<{ pids: number[]; release(): void }> {
    await cheap.mapEvent(envelope("vendorS", "WARM"), "1");
    const pids = starving.pids;
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(pid, "SIGSTOP");
    return {
      pids,
      release: () => {
        for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGCONT");
      },
    };
  }

  it("maps a cheap mapping once it gets the CPU again, although the wall clock passed its time limit", async () => {
    // prepare: held for 1 s, past the 300 ms limit (+ 100 ms grace), short of the ceiling of 10 × 300 ms
    const held = await holdEvaluators();
    const started = Date.now();

    // act
    const mapping = cheap.mapEvent(envelope("vendorS", "ROA"), "1");
    mapping.catch(() => undefined); // awaited below; a failure meanwhile is not unhandled
    await delay(1_000);
    held.release();
    const mapped = await mapping;

    // assess: the mapping used a few ms of CPU of its 300; the wait was the machine's, not its own
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(mapped.data).toEqual({ warehouseId: "ROA", sku: "ABC-001", quantityOnHand: 12 });
    expect(starving.pids).toEqual(expect.arrayContaining(held.pids));
  });

  it("gives up past the wall-clock ceiling with a transient error the workflow retries, and replaces the evaluator", async () => {
    // prepare: held for good
    const held = await holdEvaluators();
    const started = Date.now();

    // act
    const error = await cheap.mapEvent(envelope("vendorS", "ROA"), "1").then(
      () => undefined,
      (failure: unknown) => failure as DvssError,
    );
    const waited = Date.now() - started;
    held.release();
    const after = await cheap.mapEvent(envelope("vendorS", "CDG"), "1");

    // assess
    expect(error).toBeInstanceOf(MappingStarvedError);
    expect(error).toMatchObject({
      name: "MappingStarvedError",
      code: "UNAVAILABLE",
      transience: "transient",
    });
    expect(TRANSIENT_ERROR_NAMES).toContain(error?.name);
    expect(error?.message).toMatch(
      /^Mapping vendorS\/inventory_update\/1 did not finish within 3000 ms although it had used only \d+ ms of CPU of its 300 ms limit/,
    );
    expect(error?.details).toContainEqual({ path: "mappingVersion", message: "vendorS/inventory_update/1" });
    // Held until the ceiling (10 × 300 ms), then its process killed.
    expect(waited).toBeGreaterThanOrEqual(3_000);
    expect(waited).toBeLessThan(8_000);
    expect(starving.pids.some((pid) => held.pids.includes(pid))).toBe(false);
    expect(after.data).toMatchObject({ warehouseId: "CDG" });
  });

  it("still stops a catastrophic regex once it has used its time limit in CPU, well before the ceiling", async () => {
    // prepare: the production limit, 1 s
    const hostile = engineFor("vendorH", CATASTROPHIC_REGEX, { timeoutMs: 1_000 });
    const started = Date.now();

    // act
    const error = await hostile.mapEvent(envelope("vendorH", HOSTILE_INPUT), "1").then(
      () => undefined,
      (failure: unknown) => failure as DvssError,
    );

    // assess: stopped at ~1 s of CPU (1.1 s of wall clock on an idle machine, more on a busy one
    // where it gets less of a core), permanent as before, never retried as a starved evaluator
    const stoppedAfter = Date.now() - started;
    expect(error).toBeInstanceOf(MappingTimeoutError);
    expect(error).toMatchObject({ code: "MAPPING_TIMEOUT", transience: "permanent" });
    expect(error?.message).toBe("Mapping vendorH/inventory_update/1 ran longer than 1000 ms and was stopped");
    expect(stoppedAfter).toBeGreaterThanOrEqual(1_000);
    expect(stoppedAfter).toBeLessThan(20_000);
  });
});
