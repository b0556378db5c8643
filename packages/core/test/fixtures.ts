/** The seed example of the envelope contract, docs/contract: vendorA's inventory update, the envelope most tests start from. */
export const seedEnvelope = {
  vendorId: "vendorA",
  externalEventId: "inv-12345",
  eventType: "inventory_update",
  occurredAt: "2026-01-30T20:15:12Z",
  schemaVersion: "1",
  payload: { sku: "ABC-001", qty: 12, warehouse: "ROA" },
};
