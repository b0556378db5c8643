import { Entity, type EntityConfiguration, type EntityItem } from "electrodb";
import { DIVERGENCE_KINDS } from "../state/types.ts";

/**
 * A valid event that was not applied or disagrees with canonical state (docs/spec/canonical-state.md). Keyed by
 * divergenceId (ingestId, kind, the other event of a pair), so writing it again changes nothing.
 */
export const divergenceEntity = (config: EntityConfiguration) =>
  new Entity(
    {
      model: { entity: "divergence", version: "1", service: "dvss" },
      attributes: {
        /**
         * inventory, order, or ingest for IDEMPOTENCY_CONFLICT (key `<vendorId>#<externalEventId>`,
         * composeKey). The key comes last in the partition key and is itself unambiguous
         * (inventoryKey, an orderId, composeKey), so two entities never share a partition.
         */
        entityType: { type: ["inventory", "order", "ingest"] as const, required: true, readOnly: true },
        entityKey: { type: "string", required: true, readOnly: true },
        divergenceId: { type: "string", required: true, readOnly: true },
        kind: { type: DIVERGENCE_KINDS, required: true, readOnly: true },
        ingestId: { type: "string", required: true, readOnly: true },
        vendorId: { type: "string", required: true, readOnly: true },
        externalEventId: { type: "string", required: true, readOnly: true },
        eventType: { type: "string" },
        occurredAt: { type: "string" },
        rawKey: { type: "string" },
        /** What the event said (its data; for IDEMPOTENCY_CONFLICT both content hashes). */
        said: { type: "any" },
        /** The entity as consumers saw it before (the HTTP API contract, docs/contract shape), null for a new entity. */
        stateBefore: { type: "any" },
        /** The other event of a pair kind, described like the event itself. */
        related: { type: "any" },
        reason: { type: "string", required: true },
        detectedAt: { type: "string", required: true, readOnly: true },
      },
      indexes: {
        byEntity: {
          pk: { field: "pk", composite: ["entityType", "entityKey"], casing: "none" },
          sk: { field: "sk", composite: ["divergenceId"], casing: "none" },
        },
        byIngestId: {
          index: "gsi1",
          pk: { field: "gsi1pk", composite: ["ingestId"], casing: "none" },
          sk: { field: "gsi1sk", composite: ["divergenceId"], casing: "none" },
        },
        byKind: {
          index: "gsi2",
          pk: { field: "gsi2pk", composite: ["kind"], casing: "none" },
          sk: { field: "gsi2sk", composite: ["detectedAt", "divergenceId"], casing: "none" },
        },
      },
    },
    config,
  );

export type DivergenceItem = EntityItem<ReturnType<typeof divergenceEntity>>;

/**
 * The divergences an event's arrival recorded, whole, in divergenceId order. The by-ingestId index
 * holds only what names each one (core/tables.ts), so each is read by its key: an event records
 * few, usually none.
 */
export async function divergencesOfEvent(
  divergences: ReturnType<typeof divergenceEntity>,
  ingestId: string,
): Promise<DivergenceItem[]> {
  const { data: keys } = await divergences.query
    .byIngestId({ ingestId })
    .go({ pages: "all", attributes: ["entityType", "entityKey", "divergenceId"] });
  const found = await Promise.all(keys.map(async (key) => (await divergences.get(key).go()).data));
  return found.filter((divergence): divergence is DivergenceItem => divergence !== null);
}
