import { describe, expect, it } from "vitest";
import { linesOf } from "../src/lib/metrics.ts";

describe("a metric's EMF lines", () => {
  it("put dimension sets on one line unless they share a dimension", () => {
    expect(linesOf([[], ["vendorId"]])).toEqual([[[], ["vendorId"]]]);
    expect(linesOf([[], ["vendorId"], ["vendorId", "eventType"]])).toEqual([
      [[], ["vendorId"]],
      [["vendorId", "eventType"]],
    ]);
    expect(linesOf([["severity"], ["vendorId", "severity"]])).toEqual([
      [["severity"]],
      [["vendorId", "severity"]],
    ]);
    expect(linesOf([["stage"]])).toEqual([[["stage"]]]);
  });
});
