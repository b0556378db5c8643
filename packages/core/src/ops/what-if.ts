import { resolve } from "node:path";
import { canonicalDocument, lookupIn, matchEvent } from "../crosswalk.ts";
import type { IngestRecordItem } from "../entities/index.ts";
import { parseEnvelope } from "../envelope.ts";
import { DvssError } from "../errors.ts";
import { normalizedKey } from "../keys.ts";
import { checkExamples, jsonDifferences } from "../mapping/check.ts";
import { type CompiledMapping, compileMappingVersion } from "../mapping/compile.ts";
import { readVersionDir } from "../mapping/fs-source.ts";
import { mappingContentSha256 } from "../mapping/store-source.ts";
import { buildNormalizedDocument, type NormalizedDocument } from "../normalized.ts";
import { foldWithLog } from "../state/apply.ts";
import { type InventoryState, inventoryView } from "../state/inventory.ts";
import { type OrderState, orderView } from "../state/orders.ts";
import { type EntityState, entityOf } from "../state/rules.ts";
import { readState, stateKeyOf } from "../state/store.ts";
import type { EntityRef } from "../state/types.ts";
import type { OpsContext } from "./context.ts";
import { readCrosswalk } from "./crosswalk.ts";
import { requireDirectory, versionIdsOf } from "./publish.ts";
import { rawKeyPages, readObject } from "./replay.ts";
import { findRecord } from "./story.ts";

/**
 * `dvss mapping what-if <versionDir>`: what publishing a candidate version and replaying its
 * vendor's events would do (docs/operations/runbook.md), computed in-process, writing nothing.
 * Every archived raw body of the vendor and event type in the window is mapped with the candidate,
 * as the workflow would map it once the candidate is active; the result is compared with what is
 * stored now, and each document that would be written anew is folded into its entity's canonical
 * state with the state rules (packages/core/src/state), as ApplyState would fold it on the replay.
 * An event already applied is never applied again (docs/spec/canonical-state.md), so a document
 * that changes but stays on its entity leaves that entity's state as it is: such documents are
 * marked `appliedAlready`.
 *
 * Memory is bounded: the archive is read one listing page at a time, only the entities the
 * candidate touches are kept, and the lists in the report stop at `maxListed` (counts go on).
 */

export interface WhatIfOptions {
  from?: Date | undefined;
  to?: Date | undefined;
  /** The most events or entities each list of the report names; the counts cover every one. */
  maxListed?: number;
  /** Raw objects read at once. */
  concurrency?: number;
  onListed?: (total: number) => void;
  onProgress?: (done: number, total: number) => void;
}

/** One field of a document or a state: what it is now, what it would be with the candidate. */
export interface FieldChange {
  path: string;
  /** Absent (undefined, left out of JSON) when the field does not exist on that side. */
  now?: unknown;
  after?: unknown;
}

/** How an event stands now: its ingest record's status, and its quarantine reason if it failed. */
export interface EventNow {
  status: IngestRecordItem["status"];
  code?: string;
}

export interface WouldFail {
  ingestId: string;
  externalEventId: string;
  now: EventNow;
  code: string;
  /** The fields the error names (`payload.qty`, `data.quantityOnHand`, `entity`). */
  fields: string[];
  message: string;
}

export interface DocumentChange {
  ingestId: string;
  externalEventId: string;
  now: EventNow;
  /** `new`: no normalized document now (the event failed or is in flight); `changed`: other content. */
  change: "new" | "changed";
  normalizedKey: string;
  fields: FieldChange[];
  /**
   * The event is applied to this entity already: replay writes the new document, but the state
   * keeps what the event said when it was applied.
   */
  appliedAlready: boolean;
}

export type StateView = Record<string, unknown>;

export interface StateChange {
  entity: EntityRef;
  /** The state consumers read now (GET /v1/state/...), or null when the entity has none. */
  now: StateView | null;
  after: StateView;
  fields: FieldChange[];
}

export interface WhatIfReport {
  /** `vendorId/eventType/version` of the candidate. */
  candidate: string;
  vendorId: string;
  eventType: string;
  version: string;
  from?: string;
  to: string;
  counts: {
    /** Events of the vendor and event type in the window. */
    events: number;
    unchanged: number;
    changed: number;
    new: number;
    wouldFail: number;
    /** Events that name another schemaVersion: a publish does not change how they map. */
    otherVersion: number;
    /** Raw objects without an ingest record (an ingest that lost a race or failed): replay skips them. */
    orphans: number;
    states: number;
  };
  /** Whether `mapping publish` would take the folder. */
  publish: {
    /** Its golden examples, run as `mapping check` runs them: publish needs every one to pass. */
    examples: { total: number; failed: number };
    /** Why publish would refuse it although the examples pass: the version exists with other content. */
    refusal?: string;
  };
  wouldFail: WouldFail[];
  documents: DocumentChange[];
  states: StateChange[];
  /** How many were left out of each list (maxListed). */
  omitted: { wouldFail: number; documents: number; states: number };
}

const DEFAULT_MAX_LISTED = 200;

function viewOf(state: EntityState): StateView {
  return "quantityOnHand" in state
    ? { ...inventoryView(state as InventoryState) }
    : { ...orderView(state as OrderState) };
}

const fieldChanges = (now: unknown, after: unknown): FieldChange[] =>
  jsonDifferences(now, after).map(({ path, expected, actual }) => ({
    path,
    ...(expected !== undefined && { now: expected }),
    ...(actual !== undefined && { after: actual }),
  }));

/** What one event becomes with the candidate. */
type Mapped =
  | { kind: "skip"; reason: "orphan" | "other-type" | "other-version" }
  | { kind: "fail"; item: WouldFail }
  | { kind: "unchanged" }
  | { kind: "document"; item: Omit<DocumentChange, "appliedAlready">; document: NormalizedDocument };

function failureOf(
  error: DvssError,
  record: Pick<IngestRecordItem, "ingestId" | "externalEventId">,
  now: EventNow,
): WouldFail {
  return {
    ingestId: record.ingestId,
    externalEventId: record.externalEventId,
    now,
    code: error.code,
    fields: [...new Set(error.details.map((detail) => detail.path))],
    message: error.message,
  };
}

async function mapEvent(
  context: OpsContext,
  candidate: CompiledMapping,
  listed: { key: string; ingestId: string },
): Promise<Mapped> {
  const record = await findRecord(context, listed.ingestId);
  if (!record || record.vendorId !== candidate.vendorId) return { kind: "skip", reason: "orphan" };
  if (record.eventType !== candidate.eventType) return { kind: "skip", reason: "other-type" };
  const now: EventNow = {
    status: record.status,
    ...(record.status === "FAILED_NORMALIZE" && record.lastError?.code && { code: record.lastError.code }),
  };
  const rawRef = { bucket: record.rawBucket, key: record.rawKey };
  let document: NormalizedDocument;
  try {
    const raw = await readObject(context, rawRef);
    if (!raw) {
      const missing = new DvssError("MISSING_RECORD", `raw object ${rawRef.key} is missing`, {
        details: [{ path: "rawRef", message: "missing" }],
      });
      return { kind: "fail", item: failureOf(missing, record, now) };
    }
    const envelope = parseEnvelope(raw);
    // An event that names a version keeps it after the publish: the candidate does not map it.
    if (envelope.schemaVersion !== undefined && envelope.schemaVersion !== candidate.version) {
      return { kind: "skip", reason: "other-version" };
    }
    candidate.validatePayload(envelope.payload);
    const mapped = await candidate.map(envelope);
    document = buildNormalizedDocument({
      ingestId: record.ingestId,
      envelope,
      standardEventType: mapped.standardEventType,
      data: mapped.data,
      rawRef,
    });
  } catch (error) {
    if (error instanceof DvssError) return { kind: "fail", item: failureOf(error, record, now) };
    throw error;
  }
  const stored =
    record.status === "NORMALIZED" && record.normalizedKey
      ? await readObject(context, {
          bucket: record.normalizedBucket ?? context.target.buckets.NormalizedBucket,
          key: record.normalizedKey,
        })
      : undefined;
  const base = {
    ingestId: record.ingestId,
    externalEventId: record.externalEventId,
    now,
    normalizedKey: normalizedKey(document.eventType, record.ingestId),
  };
  if (!stored) {
    const fields = fieldChanges({}, { eventType: document.eventType, data: document.data });
    return { kind: "document", item: { ...base, change: "new", fields }, document };
  }
  const fields = fieldChanges(JSON.parse(stored.toString()), document);
  if (fields.length === 0) return { kind: "unchanged" };
  return { kind: "document", item: { ...base, change: "changed", fields }, document };
}

/** An entity the candidate's documents reach: its state now, and as the replay would leave it. */
interface EntitySummary {
  entity: EntityRef;
  now: EntityState | undefined;
  after: EntityState | undefined;
}

/**
 * Runs the candidate version folder over the archive of its vendor and event type (see the module
 * comment). Throws what `mapping check` would for a folder that does not compile.
 */
export async function whatIf(
  context: OpsContext,
  versionDir: string,
  options: WhatIfOptions = {},
): Promise<WhatIfReport> {
  const dir = resolve(versionDir);
  requireDirectory(dir);
  const ids = versionIdsOf(dir);
  const definition = await readVersionDir(dir, ids);
  const candidate = compileMappingVersion(definition);
  const examples = await checkExamples(dir);
  const existing = await context
    .definitions()
    .combined.loadMappingVersion(ids.vendorId, ids.eventType, ids.version);
  const refusal =
    existing && mappingContentSha256(existing) !== mappingContentSha256(definition)
      ? `${ids.vendorId}/${ids.eventType}/${ids.version} exists with other content (MAPPING_VERSION_CONFLICT): give the candidate a new version`
      : undefined;
  const to = options.to ?? new Date(context.now());
  const maxListed = options.maxListed ?? DEFAULT_MAX_LISTED;
  const concurrency = options.concurrency ?? 8;
  const { data: vendor } = await context.entities.vendors.get({ vendorId: ids.vendorId }).go();
  // As ApplyState: a vendor without a profile sorts after every known one.
  const priority = vendor?.priority ?? Number.MAX_SAFE_INTEGER;
  // As the Match stage: each document is folded under its canonical ids.
  const lookup = lookupIn(await readCrosswalk(context.entities, ids.vendorId));
  const policy = (await context.definitions().bundled.loadVendor(ids.vendorId))?.profile.match;

  let total = 0;
  for await (const page of rawKeyPages(context, ids.vendorId, options.from, to)) total += page.length;
  options.onListed?.(total);

  const report: WhatIfReport = {
    candidate: `${ids.vendorId}/${ids.eventType}/${ids.version}`,
    ...ids,
    ...(options.from && { from: options.from.toISOString() }),
    to: to.toISOString(),
    counts: {
      events: 0,
      unchanged: 0,
      changed: 0,
      new: 0,
      wouldFail: 0,
      otherVersion: 0,
      orphans: 0,
      states: 0,
    },
    publish: {
      examples: { total: examples.total, failed: examples.failed },
      ...(refusal && { refusal }),
    },
    wouldFail: [],
    documents: [],
    states: [],
    omitted: { wouldFail: 0, documents: 0, states: 0 },
  };
  const list = <K extends "wouldFail" | "documents">(name: K, item: WhatIfReport[K][number]) => {
    if (report[name].length < maxListed) (report[name] as WhatIfReport[K][number][]).push(item);
    else report.omitted[name]++;
  };
  const entities = new Map<string, EntitySummary>();

  let done = 0;
  for await (const page of rawKeyPages(context, ids.vendorId, options.from, to)) {
    // Read and map a page's events a few at a time; fold them one by one, in arrival order.
    const results: Mapped[] = [];
    for (let start = 0; start < page.length; start += concurrency) {
      const chunk = page.slice(start, start + concurrency);
      results.push(...(await Promise.all(chunk.map((listed) => mapEvent(context, candidate, listed)))));
      done += chunk.length;
      options.onProgress?.(done, total);
    }
    for (const result of results) {
      if (result.kind === "skip") {
        if (result.reason === "orphan") report.counts.orphans++;
        if (result.reason === "other-version") {
          report.counts.events++;
          report.counts.otherVersion++;
        }
        continue;
      }
      report.counts.events++;
      if (result.kind === "unchanged") report.counts.unchanged++;
      else if (result.kind === "fail") {
        report.counts.wouldFail++;
        list("wouldFail", result.item);
      } else {
        const { item } = result;
        let document: NormalizedDocument;
        try {
          document = canonicalDocument(result.document, matchEvent(result.document, policy, lookup));
        } catch (error) {
          // The document would be written, then Match would refuse it (UNMATCHED_IDENTIFIER, ...).
          if (!(error instanceof DvssError)) throw error;
          report.counts.wouldFail++;
          list("wouldFail", failureOf(error, item, item.now));
          continue;
        }
        const entity = entityOf(document);
        const id = `${entity.type}:${entity.key}`;
        let summary = entities.get(id);
        if (!summary) {
          const stored = await readState(context.entities, stateKeyOf(document));
          summary = { entity, now: stored?.state, after: stored?.state };
          entities.set(id, summary);
        }
        let applied: Awaited<ReturnType<typeof foldWithLog>>;
        try {
          // As ApplyState folds it (state/apply.ts): with the entity's logged events when it is late. The
          // log holds what is stored, not the documents this run folded before: those are in the
          // item's window unless more than the window (128 events) land on one entity.
          applied = await foldWithLog(context.entities, summary.after, document, { priority });
        } catch (error) {
          // The document would be written, then ApplyState would refuse it (QUANTITY_OUT_OF_RANGE).
          if (!(error instanceof DvssError)) throw error;
          report.counts.wouldFail++;
          list("wouldFail", failureOf(error, item, item.now));
          continue;
        }
        summary.after = applied.item;
        report.counts[item.change]++;
        list("documents", { ...item, appliedAlready: !applied.changed });
      }
    }
  }

  for (const summary of entities.values()) {
    if (!summary.after) continue;
    const now = summary.now ? viewOf(summary.now) : null;
    const after = viewOf(summary.after);
    const fields = fieldChanges(now ?? {}, after);
    if (fields.length === 0) continue;
    report.counts.states++;
    if (report.states.length < maxListed) report.states.push({ entity: summary.entity, now, after, fields });
    else report.omitted.states++;
  }
  report.states.sort((a, b) =>
    `${a.entity.type}:${a.entity.key}` < `${b.entity.type}:${b.entity.key}` ? -1 : 1,
  );
  return report;
}
