import { isConditionalCheckFailed } from "../entities/conditions.ts";
import type { Entities } from "../entities/index.ts";
import { sha256Hex } from "../hash.ts";
import { millisecondsSetting } from "../settings.ts";
import type { DriftObservation } from "./compare.ts";
import type { DriftSeverity } from "./kinds.ts";

/** Findings one vendor event type version may hold; past it, new ones fold into its `*` finding of their kind. */
export const MAX_FINDINGS_PER_VERSION = 100;
/** A process writes a finding at most once per this long (plus when it turns breaking). */
export const DRIFT_WRITE_INTERVAL_MS = 60_000;
/** The write interval of this process: DVSS_DRIFT_WRITE_INTERVAL_MS overrides (0: every event writes, exact counts). */
export function driftWriteIntervalMs(env: Record<string, string | undefined> = process.env): number {
  return millisecondsSetting(env, "DVSS_DRIFT_WRITE_INTERVAL_MS", DRIFT_WRITE_INTERVAL_MS);
}

/** The path of the finding that stands for those past the budget. */
export const OVERFLOW_PATH = "*";

export interface VersionRef {
  vendorId: string;
  eventType: string;
  version: string;
}

export interface FindingWrite extends VersionRef, DriftObservation {
  severity: DriftSeverity;
  ingestId: string;
  /** Events this write accounts for (those the throttle held back, and this one). */
  count: number;
  at: string;
}

/** What a write did: created a finding, turned one breaking, updated one, or found the version's budget spent. */
export type WriteOutcome = "created" | "escalated" | "updated" | "budget_spent";

/** `<vendorId>:<12 hex>`: short enough to type, and the vendor names the partition to look in. */
export function findingIdOf(key: VersionRef & { kind: string; path: string }): string {
  const digest = sha256Hex([key.eventType, key.version, key.kind, key.path].join("\u0000"));
  return `${key.vendorId}:${digest.slice(0, 12)}`;
}

type DriftEntities = Pick<Entities, "driftFindings" | "driftBudgets">;

/**
 * One finding's write. An existing finding is one UpdateItem (count added, lastSeen set; turned
 * breaking, with this event as its example). A new one first takes a place in the version's
 * budget (a conditional ADD), then is created; with the budget spent it is not written
 * ("budget_spent") and the caller folds it into the `*` finding, which needs no place.
 */
export async function writeFinding(entities: DriftEntities, write: FindingWrite): Promise<WriteOutcome> {
  const key = {
    vendorId: write.vendorId,
    eventType: write.eventType,
    version: write.version,
    kind: write.kind,
    path: write.path,
  };
  const breaking = write.severity === "breaking";
  const example = { exampleIngestId: write.ingestId, expected: write.expected, seen: write.seen };
  try {
    const old = await entities.driftFindings
      .patch(key)
      .set({ lastSeen: write.at, ...(breaking && { severity: "breaking" as const, ...example }) })
      .add({ count: write.count })
      .go({ response: "all_old" });
    return breaking && old.data?.severity !== "breaking" ? "escalated" : "updated";
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
  }
  if (write.path !== OVERFLOW_PATH) {
    try {
      await entities.driftBudgets
        .update({ vendorId: write.vendorId, eventType: write.eventType, version: write.version })
        .add({ findings: 1 })
        .where(
          ({ findings }, { notExists, lt }) =>
            `${notExists(findings)} OR ${lt(findings, MAX_FINDINGS_PER_VERSION)}`,
        )
        .go({ response: "none" });
    } catch (error) {
      if (isConditionalCheckFailed(error)) return "budget_spent";
      throw error;
    }
  }
  // Two processes creating the same finding at once both land here: the second adds its count.
  await entities.driftFindings
    .upsert({ ...key, findingId: findingIdOf(key), lastSeen: write.at })
    .ifNotExists({ firstSeen: write.at, severity: write.severity, ...example })
    .add({ count: write.count })
    .go({ response: "none" });
  return "created";
}

export interface DriftRecorderOptions {
  write: (write: FindingWrite) => Promise<WriteOutcome>;
  /** Told of a finding created or turned breaking: what the metric counts. */
  onAlert?: (write: FindingWrite, outcome: "created" | "escalated") => void;
  now?: () => number;
  intervalMs?: number;
  /** Findings a process keeps track of; past it, it starts afresh (each then written once more). */
  maxTracked?: number;
}

interface Tracked {
  /** Events seen since the last write. */
  pending: number;
  lastWriteAt: number;
  wroteBreaking: boolean;
}

/**
 * The per-process throttle in front of writeFinding: a finding is written when this process first
 * sees it, when it turns breaking, and then at most once per interval, adding the events seen
 * since. Events seen after the last write of a finding that then stops are never added: counts
 * are a lower bound. A version whose budget is spent sends its new findings to its `*` finding
 * for an interval before asking the store again.
 */
export function createDriftRecorder(options: DriftRecorderOptions) {
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? driftWriteIntervalMs();
  const maxTracked = options.maxTracked ?? 5_000;
  const tracked = new Map<string, Tracked>();
  const spentUntil = new Map<string, number>();

  const keyOf = (write: Pick<FindingWrite, keyof VersionRef | "kind" | "path">) =>
    [write.vendorId, write.eventType, write.version, write.kind, write.path].join("\u0000");
  const versionKey = (ref: VersionRef) => [ref.vendorId, ref.eventType, ref.version].join("\u0000");

  async function send(write: FindingWrite): Promise<void> {
    const outcome = await options.write(write);
    if (outcome === "budget_spent") {
      spentUntil.set(versionKey(write), now() + interval);
      tracked.delete(keyOf(write));
      return observe({ ...write, path: OVERFLOW_PATH, seen: `${write.path}: ${write.seen}` });
    }
    if (outcome === "created" || outcome === "escalated") options.onAlert?.(write, outcome);
  }

  /** Accounts for one event's finding; resolves once any write it caused is done. */
  function observe(write: Omit<FindingWrite, "count"> & { count?: number }): Promise<void> {
    const key = keyOf(write);
    let state = tracked.get(key);
    const spent = (spentUntil.get(versionKey(write)) ?? 0) > now();
    if (!state && spent && write.path !== OVERFLOW_PATH) {
      return observe({ ...write, path: OVERFLOW_PATH, seen: `${write.path}: ${write.seen}` });
    }
    if (!state) {
      if (tracked.size >= maxTracked) tracked.clear();
      state = { pending: 0, lastWriteAt: Number.NEGATIVE_INFINITY, wroteBreaking: false };
      tracked.set(key, state);
    }
    state.pending += write.count ?? 1;
    const breakingNews = write.severity === "breaking" && !state.wroteBreaking;
    if (!breakingNews && now() - state.lastWriteAt < interval) return Promise.resolve();
    // Taken before the write is awaited, so concurrent events of this process do not write again.
    const count = state.pending;
    state.pending = 0;
    state.lastWriteAt = now();
    if (write.severity === "breaking") state.wroteBreaking = true;
    return send({ ...write, count });
  }

  return { observe };
}

export type DriftRecorder = ReturnType<typeof createDriftRecorder>;
