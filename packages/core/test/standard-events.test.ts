import { describe, expect, it } from "vitest";
import { MappingError } from "../src/errors.ts";
import { validateStandardEvent } from "../src/standard-events.ts";

function rejection(eventType: unknown, data: unknown): MappingError {
  try {
    validateStandardEvent(eventType, data);
  } catch (error) {
    if (error instanceof MappingError) return error;
    throw error;
  }
  throw new Error("expected a MappingError");
}

const valid = {
  InventoryUpdated: { warehouseId: "ROA", sku: "ABC-001", quantityOnHand: 12 },
  InventoryAdjusted: { warehouseId: "ROA", sku: "ABC-001", quantityDelta: -3 },
  OrderCreated: { orderId: "SO-1", lines: [{ sku: "ABC-001", quantity: 2 }], warehouseId: "ROA" },
  OrderStatusChanged: { orderId: "SO-1", status: "SHIPPED" },
};

describe("validateStandardEvent", () => {
  it.each([
    ["InventoryUpdated", "warehouseId"],
    ["InventoryAdjusted", "sku"],
    ["OrderCreated", "orderId"],
    ["OrderCreated", "warehouseId"],
    ["OrderStatusChanged", "orderId"],
  ] as const)("refuses a %s whose %s is longer than 256 characters, naming the field", (eventType, field) => {
    const data = { ...valid[eventType], [field]: "\u4e2d".repeat(257) };

    const error = rejection(eventType, data);

    expect(error.code).toBe("MAPPING_FAILED");
    expect(error.details).toEqual([{ path: `data.${field}`, message: "must be at most 256 characters" }]);
    expect(validateStandardEvent(eventType, { ...data, [field]: "\u4e2d".repeat(256) }).data).toMatchObject({
      [field]: "\u4e2d".repeat(256),
    });
  });

  it("refuses an order line sku longer than 256 characters and an order of more than 100 lines", () => {
    const line = { sku: "A", quantity: 1 };

    const longSku = rejection("OrderCreated", {
      orderId: "SO-1",
      lines: [line, { sku: "x".repeat(257), quantity: 1 }],
    });
    const tooMany = rejection("OrderCreated", {
      orderId: "SO-1",
      lines: Array.from({ length: 101 }, () => line),
    });

    expect(longSku.details).toEqual([
      { path: "data.lines.1.sku", message: "must be at most 256 characters" },
    ]);
    expect(tooMany.details).toEqual([{ path: "data.lines", message: "must have at most 100 lines" }]);
    expect(
      validateStandardEvent("OrderCreated", {
        orderId: "SO-1",
        lines: Array.from({ length: 100 }, () => line),
      }).data,
    ).toMatchObject({ orderId: "SO-1" });
  });

  it.each(Object.entries(valid))("accepts a valid %s", (eventType, data) => {
    const event = validateStandardEvent(eventType, data);

    expect(event).toEqual({ eventType, data });
  });

  it("accepts a zero quantity on hand", () => {
    const event = validateStandardEvent("InventoryUpdated", { ...valid.InventoryUpdated, quantityOnHand: 0 });

    expect(event.data).toEqual({ warehouseId: "ROA", sku: "ABC-001", quantityOnHand: 0 });
  });

  it("accepts an order without a warehouse", () => {
    const event = validateStandardEvent("OrderCreated", {
      orderId: "SO-1",
      lines: [{ sku: "A", quantity: 1 }],
    });

    expect(event.data).toEqual({ orderId: "SO-1", lines: [{ sku: "A", quantity: 1 }] });
  });

  it.each(["ACKED", "PICKED", "SHIPPED", "DELIVERED", "CANCELED"])(
    "accepts the order status %s",
    (status) => {
      const event = validateStandardEvent("OrderStatusChanged", { orderId: "SO-1", status });

      expect(event.data).toEqual({ orderId: "SO-1", status });
    },
  );

  it("returns the data in the schema's key order, whatever order it came in", () => {
    const event = validateStandardEvent("InventoryUpdated", {
      quantityOnHand: 1,
      sku: "A",
      warehouseId: "W",
    });

    expect(Object.keys(event.data)).toEqual(["warehouseId", "sku", "quantityOnHand"]);
  });

  it.each([
    [
      "InventoryUpdated",
      { ...valid.InventoryUpdated, quantityOnHand: -1 },
      "data.quantityOnHand",
      "must be 0 or more",
    ],
    [
      "InventoryUpdated",
      { ...valid.InventoryUpdated, quantityOnHand: 1.5 },
      "data.quantityOnHand",
      "must be an integer",
    ],
    [
      "InventoryUpdated",
      { ...valid.InventoryUpdated, quantityOnHand: "12" },
      "data.quantityOnHand",
      "must be a number",
    ],
    ["InventoryUpdated", { ...valid.InventoryUpdated, sku: "" }, "data.sku", "must not be empty"],
    [
      "InventoryUpdated",
      { ...valid.InventoryUpdated, sku: " ABC-001" },
      "data.sku",
      "must not have leading or trailing whitespace",
    ],
    [
      "InventoryUpdated",
      { ...valid.InventoryUpdated, warehouseId: "ROA\n" },
      "data.warehouseId",
      "must not have leading or trailing whitespace",
    ],
    [
      "InventoryUpdated",
      { ...valid.InventoryUpdated, sku: "ABC-\ud83d" },
      "data.sku",
      "must be well-formed Unicode (no lone surrogates)",
    ],
    [
      "OrderStatusChanged",
      { orderId: "\ude00SO-1", status: "ACKED" },
      "data.orderId",
      "must be well-formed Unicode (no lone surrogates)",
    ],
    ["InventoryUpdated", { sku: "A", quantityOnHand: 1 }, "data.warehouseId", "is required"],
    ["InventoryUpdated", { ...valid.InventoryUpdated, note: "x" }, "data.note", "unknown field"],
    [
      "InventoryAdjusted",
      { ...valid.InventoryAdjusted, quantityDelta: 0 },
      "data.quantityDelta",
      "must not be 0",
    ],
    [
      "InventoryAdjusted",
      { ...valid.InventoryAdjusted, quantityDelta: 0.5 },
      "data.quantityDelta",
      "must be an integer",
    ],
    ["OrderCreated", { orderId: "SO-1", lines: [] }, "data.lines", "must have at least one line"],
    ["OrderCreated", { orderId: "SO-1", lines: {} }, "data.lines", "must be an array"],
    [
      "OrderCreated",
      { orderId: "SO-1", lines: [{ sku: "A", quantity: 0 }] },
      "data.lines.0.quantity",
      "must be 1 or more",
    ],
    [
      "OrderCreated",
      { orderId: "SO-1", lines: [{ sku: "A", quantity: 1, price: 3 }] },
      "data.lines.0.price",
      "unknown field",
    ],
    [
      "OrderCreated",
      { orderId: "SO-1", lines: [{ sku: "A", quantity: 1 }], warehouseId: "" },
      "data.warehouseId",
      "must not be empty",
    ],
    [
      "OrderStatusChanged",
      { orderId: "SO-1", status: "CREATED" },
      "data.status",
      "must be one of ACKED PICKED SHIPPED DELIVERED CANCELED",
    ],
    [
      "OrderStatusChanged",
      { orderId: " ", status: "ACKED" },
      "data.orderId",
      "must not have leading or trailing whitespace",
    ],
  ])("rejects %s data %j at %s", (eventType, data, path, message) => {
    const error = rejection(eventType, data);

    expect(error.code).toBe("MAPPING_FAILED");
    expect(error.details).toContainEqual({ path, message });
  });

  it.each([
    [
      "InventoryUpdated",
      { ...valid.InventoryUpdated, quantityOnHand: JSON.parse("9007199254740993") },
      "data.quantityOnHand",
    ],
    ["InventoryUpdated", { ...valid.InventoryUpdated, quantityOnHand: 1e125 }, "data.quantityOnHand"],
    ["InventoryUpdated", { ...valid.InventoryUpdated, quantityOnHand: 1e308 }, "data.quantityOnHand"],
    ["InventoryAdjusted", { ...valid.InventoryAdjusted, quantityDelta: -(2 ** 53) }, "data.quantityDelta"],
    ["OrderCreated", { orderId: "SO-1", lines: [{ sku: "A", quantity: 2 ** 60 }] }, "data.lines.0.quantity"],
  ])(
    "rejects %s with an integer beyond 2^53-1 (%j) at %s: it cannot be stored or added up exactly",
    (eventType, data, path) => {
      const error = rejection(eventType, data);

      expect(error.code).toBe("MAPPING_FAILED");
      expect(error.details).toEqual([
        { path, message: "must be between -9007199254740991 and 9007199254740991" },
      ]);
    },
  );

  it("accepts the largest safe integer", () => {
    const event = validateStandardEvent("InventoryUpdated", {
      ...valid.InventoryUpdated,
      quantityOnHand: Number.MAX_SAFE_INTEGER,
    });

    expect(event.data).toMatchObject({ quantityOnHand: 9007199254740991 });
  });

  it("reports every broken field at once", () => {
    const error = rejection("InventoryUpdated", { warehouseId: "", sku: "A", quantityOnHand: -1 });

    expect(error.details.map((detail) => detail.path)).toEqual(["data.warehouseId", "data.quantityOnHand"]);
  });

  it.each([[null], [[]], ["text"]])("rejects data that is not an object (%j)", (data) => {
    const error = rejection("InventoryUpdated", data);

    expect(error.details).toEqual([{ path: "data", message: "must be an object" }]);
  });

  it.each(["InventoryChanged", "inventoryupdated", "toString", undefined])(
    "rejects the unknown event type %j",
    (eventType) => {
      const error = rejection(eventType, valid.InventoryUpdated);

      expect(error.details).toEqual([
        {
          path: "eventType",
          message: "must be one of InventoryUpdated InventoryAdjusted OrderCreated OrderStatusChanged",
        },
      ]);
    },
  );
});
