/** What changed in a vendor's payloads, by kind (docs/spec/drift.md). */
export const DRIFT_KINDS = [
  "undeclared_field",
  "field_absent",
  "mapped_path_absent",
  "type_widened",
  "new_value",
  "out_of_range",
] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

export const DRIFT_SEVERITIES = ["breaking", "non_breaking"] as const;
export type DriftSeverity = (typeof DRIFT_SEVERITIES)[number];
