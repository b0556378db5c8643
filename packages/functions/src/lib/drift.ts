import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { classify, comparePayload, type DriftVerdict } from "@dvss/core/drift/compare";
import { buildDriftProfile, type DriftProfile } from "@dvss/core/drift/profile";
import { createDriftRecorder, type DriftRecorder, writeFinding } from "@dvss/core/drift/record";
import type { Entities } from "@dvss/core/entities/index";
import type { Envelope } from "@dvss/core/envelope";
import { DvssError } from "@dvss/core/errors";
import { cachedPromise, LruMap } from "@dvss/core/lru";
import { mappingId } from "@dvss/core/mapping/definitions";
import type { MappingEngine } from "@dvss/core/mapping/engine";
import { EXAMPLES_DIR } from "@dvss/core/mapping/fs-source";
import { addToScorecard, utcDay } from "@dvss/core/scorecard";
import { getEntities, logger } from "./aws.ts";
import { definitionSource, mappingEngine } from "./mapping.ts";
import { emitMetric } from "./metrics.ts";

/**
 * Drift detection in the Map task (docs/spec/drift.md): the event's payload compared with its
 * version's profile once validation and mapping have ended, whichever way. Never fails the event,
 * and delays it by DRIFT_WAIT_MS at most: a drift error is logged and swallowed.
 */

const MAX_PROFILES = 256;
let profiles = new LruMap<string, Promise<DriftProfile | undefined>>(MAX_PROFILES);
let profilesEngine: MappingEngine | undefined;
let recorder: { entities: Entities; recorder: DriftRecorder } | undefined;

/** The payloads of a version folder's golden examples; none when the folder has none (a version published from elsewhere). */
async function examplePayloads(versionDir: string): Promise<unknown[]> {
  let names: string[];
  try {
    names = (await readdir(join(versionDir, EXAMPLES_DIR)))
      .filter((name) => name.endsWith(".input.json"))
      .sort();
  } catch {
    return [];
  }
  const payloads: unknown[] = [];
  for (const name of names) {
    try {
      payloads.push(
        (JSON.parse(await readFile(join(versionDir, EXAMPLES_DIR, name), "utf8")) as Envelope).payload,
      );
    } catch {
      // A broken example fails `mapping check`; here it only leaves the profile without it.
    }
  }
  return payloads;
}

async function loadProfile(vendorId: string, eventType: string, version: string) {
  const { source, vendorsDir } = definitionSource();
  const definition = await source.loadMappingVersion(vendorId, eventType, version);
  if (!definition) return undefined;
  return buildDriftProfile({
    id: mappingId(vendorId, eventType, version),
    payloadSchema: definition.payloadSchema,
    mapping: definition.mapping,
    examples: await examplePayloads(join(vendorsDir, vendorId, eventType, version)),
  });
}

/** Built once per version and kept like its compiled mapping: forgotten with the engine (definitions edited in place). */
function profileOf(vendorId: string, eventType: string, version: string): Promise<DriftProfile | undefined> {
  const engine = mappingEngine();
  if (engine !== profilesEngine) {
    profiles = new LruMap(MAX_PROFILES);
    profilesEngine = engine;
  }
  return cachedPromise(profiles, mappingId(vendorId, eventType, version), () =>
    loadProfile(vendorId, eventType, version),
  );
}

/** This process's recorder, over the current stores (a local runtime restarted in-process gets a new one). */
function driftRecorder(): DriftRecorder {
  const entities = getEntities();
  if (recorder?.entities !== entities) {
    recorder = {
      entities,
      recorder: createDriftRecorder({
        write: async (finding) => {
          const outcome = await writeFinding(entities, finding);
          // A new finding counts on its vendor's scorecard (docs/spec/scorecard.md); a lost count is only logged.
          if (outcome === "created") {
            await addToScorecard(
              entities,
              finding.vendorId,
              utcDay(finding.at),
              { driftFindings: 1 },
              {
                warn: (message, extra) => logger.warn(message, extra ?? {}),
              },
            );
          }
          return outcome;
        },
        onAlert: (finding) =>
          emitMetric("driftDetected", { vendorId: finding.vendorId, severity: finding.severity }),
      }),
    };
  }
  return recorder.recorder;
}

function verdictOf(error: unknown): DriftVerdict {
  return error instanceof DvssError
    ? { passed: false, code: error.code, details: error.details }
    : { passed: false, code: "INTERNAL", details: [] };
}

/** Compares the event with its version's profile and records what differs; never throws. */
export async function detectDrift(
  ingestId: string,
  envelope: Envelope,
  verdict: DriftVerdict,
): Promise<void> {
  try {
    // No version (unknown vendor, type or version): nothing to compare with, and the quarantine says so.
    const version = await mappingEngine()
      .selectVersion(envelope)
      .catch(() => undefined);
    if (version === undefined) return;
    const { vendorId, eventType } = envelope;
    const profile = await profileOf(vendorId, eventType, version);
    if (!profile) return;
    const observations = comparePayload(profile, envelope.payload);
    if (observations.length === 0) return;
    const at = new Date().toISOString();
    const recorder = driftRecorder();
    await Promise.all(
      observations.map((observation) =>
        recorder.observe({
          vendorId,
          eventType,
          version,
          ...observation,
          severity: classify(profile, observation, verdict),
          ingestId,
          at,
        }),
      ),
    );
  } catch (error) {
    logger.warn("drift not recorded", { error });
  }
}

/** The longest the task waits for its drift writes: a slow store must not hold the event up. */
export const DRIFT_WAIT_MS = 1_000;

/** `work`'s result, or "late" once `ms` have passed (`work` goes on). */
export async function atMost<T>(work: Promise<T>, ms: number): Promise<T | "late"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Records drift, waiting at most DRIFT_WAIT_MS; writes still in flight then finish (or fail, logged) on their own. */
async function settleDrift(ingestId: string, envelope: Envelope, verdict: DriftVerdict): Promise<void> {
  const outcome = await atMost(detectDrift(ingestId, envelope, verdict), DRIFT_WAIT_MS);
  if (outcome === "late") logger.warn("drift not recorded in time", { waitedMs: DRIFT_WAIT_MS });
}

/** What a task wrapped by withDrift tells it: the envelope it read. */
export interface DriftWatch {
  saw(envelope: Envelope): void;
}

/**
 * Wraps the Map task: once it has ended, passed or failed, the envelope it saw is checked for
 * drift with that verdict; the task's result or error is then returned as it was.
 */
export function withDrift<State extends { ingestId: string }, Result>(
  task: (state: State, drift: DriftWatch) => Promise<Result>,
): (state: State) => Promise<Result> {
  return async (state) => {
    let envelope: Envelope | undefined;
    const watch: DriftWatch = {
      saw: (seen) => {
        envelope = seen;
      },
    };
    try {
      const result = await task(state, watch);
      if (envelope) await settleDrift(state.ingestId, envelope, { passed: true });
      return result;
    } catch (error) {
      if (envelope) await settleDrift(state.ingestId, envelope, verdictOf(error));
      throw error;
    }
  };
}
