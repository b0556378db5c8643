import * as v from "valibot";
import type { Envelope } from "./envelope.ts";
import type { ObjectRef } from "./keys.ts";
import {
  InventoryAdjustedSchema,
  InventoryUpdatedSchema,
  OrderCreatedSchema,
  OrderStatusChangedSchema,
  STANDARD_SCHEMA_VERSION,
  type StandardEvent,
  type StandardEventData,
  type StandardEventType,
  validateStandardEvent,
} from "./standard-events.ts";

/**
 * The normalized document of docs/spec/canonical-state.md, as published: what the normalized bucket holds and the
 * feed carries. One variant per standard event type so `data` is checked against its own schema.
 */
const documentOf = <T extends StandardEventType, S extends v.GenericSchema>(eventType: T, data: S) =>
  v.strictObject({
    ingestId: v.pipe(v.string(), v.regex(/^[0-9A-HJKMNP-TV-Z]{26}$/), v.description("ULID given at ingest.")),
    vendorId: v.pipe(v.string(), v.description("The vendor that sent the event.")),
    externalEventId: v.pipe(v.string(), v.description("The vendor's own id of the event.")),
    eventType: v.literal(eventType),
    schemaVersion: v.literal(STANDARD_SCHEMA_VERSION),
    occurredAt: v.pipe(v.string(), v.description("As the vendor sent it in the envelope.")),
    data,
    rawRef: v.pipe(
      v.strictObject({ bucket: v.string(), key: v.string() }),
      v.description("Where the raw request body is kept."),
    ),
  });

export const NormalizedDocumentSchema = v.variant("eventType", [
  documentOf("InventoryUpdated", InventoryUpdatedSchema),
  documentOf("InventoryAdjusted", InventoryAdjustedSchema),
  documentOf("OrderCreated", OrderCreatedSchema),
  documentOf("OrderStatusChanged", OrderStatusChangedSchema),
]);

export type NormalizedDocument = v.InferOutput<typeof NormalizedDocumentSchema>;

export interface NormalizedDocumentInput<T extends StandardEventType = StandardEventType> {
  ingestId: string;
  envelope: Pick<Envelope, "vendorId" | "externalEventId" | "occurredAt">;
  standardEventType: T;
  data: StandardEventData<T>;
  rawRef: ObjectRef;
}

/**
 * Builds the document with its keys in the contract's order. The data is checked again and
 * rebuilt in its schema's key order, so the bytes depend on the content only.
 */
export function buildNormalizedDocument(input: NormalizedDocumentInput): NormalizedDocument {
  const event: StandardEvent = validateStandardEvent(input.standardEventType, input.data);
  return {
    ingestId: input.ingestId,
    vendorId: input.envelope.vendorId,
    externalEventId: input.envelope.externalEventId,
    eventType: event.eventType,
    schemaVersion: STANDARD_SCHEMA_VERSION,
    occurredAt: input.envelope.occurredAt,
    data: event.data,
    rawRef: { bucket: input.rawRef.bucket, key: input.rawRef.key },
  } as NormalizedDocument;
}

/**
 * The exact bytes written to the normalized bucket for a document buildNormalizedDocument just
 * built (its keys already in order): JSON with 2-space indentation and one trailing newline
 * (readable in a console, diffable, and the same bytes on every replay).
 */
export function normalizedBody(built: NormalizedDocument): string {
  return `${JSON.stringify(built, null, 2)}\n`;
}

/**
 * The same bytes for any document, e.g. one read back with its keys in another order: it is
 * rebuilt (and its data checked again) first, so it serializes identically.
 */
export function serializeNormalized(doc: NormalizedDocument): string {
  return normalizedBody(
    buildNormalizedDocument({
      ingestId: doc.ingestId,
      envelope: doc,
      standardEventType: doc.eventType,
      data: doc.data,
      rawRef: doc.rawRef,
    }),
  );
}
