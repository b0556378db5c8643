import { Entity, type EntityConfiguration, type EntityItem } from "electrodb";

/**
 * A downstream team that reads canonical state and the feed (`dvss consumer add`). Its keys are
 * apiKey items with role "consumer" whose owner (`vendorId`) is the consumer's name.
 */
export const consumerEntity = (config: EntityConfiguration) =>
  new Entity(
    {
      model: { entity: "consumer", version: "1", service: "dvss" },
      attributes: {
        name: { type: "string", required: true, readOnly: true },
        createdAt: { type: "string", required: true, readOnly: true },
      },
      indexes: {
        consumer: {
          pk: { field: "pk", composite: ["name"], casing: "none" },
          sk: { field: "sk", composite: [], casing: "none" },
        },
        all: {
          index: "gsi1",
          pk: { field: "gsi1pk", composite: [], casing: "none" },
          sk: { field: "gsi1sk", composite: ["name"], casing: "none" },
        },
      },
    },
    config,
  );

export type ConsumerItem = EntityItem<ReturnType<typeof consumerEntity>>;
