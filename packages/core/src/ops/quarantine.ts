import { QUARANTINE_STATUSES, type QuarantineItem, type QuarantineStatus } from "../entities/index.ts";
import type { OpsContext } from "./context.ts";

export interface QuarantineFilter {
  vendorId?: string | undefined;
  reason?: string | undefined;
  /** Entries quarantined at or after this instant. */
  since?: Date | undefined;
  /** Which entries: open (default), redriven, resolved, or all. */
  status?: QuarantineStatus | "all" | undefined;
}

export interface QuarantineListing {
  entries: QuarantineItem[];
  total: number;
  countsByReason: Record<string, number>;
}

/**
 * Quarantine entries by status (the byStatus index, newest first), filtered by vendor, reason and
 * time, with their counts by reason.
 */
export async function listQuarantine(
  context: OpsContext,
  filter: QuarantineFilter = {},
): Promise<QuarantineListing> {
  const statuses = filter.status === "all" ? [...QUARANTINE_STATUSES] : [filter.status ?? "open"];
  const pages = await Promise.all(
    statuses.map((status) => {
      const byStatus = context.entities.quarantine.query.byStatus({ status });
      const query = filter.since ? byStatus.gte({ quarantinedAt: filter.since.toISOString() }) : byStatus;
      return query
        .where(({ vendorId, reason }, { eq }) =>
          [filter.vendorId && eq(vendorId, filter.vendorId), filter.reason && eq(reason, filter.reason)]
            .filter(Boolean)
            .join(" AND "),
        )
        .go({ pages: "all" });
    }),
  );
  const entries = pages
    .flatMap((page) => page.data)
    .sort((a, b) => b.quarantinedAt.localeCompare(a.quarantinedAt) || b.ingestId.localeCompare(a.ingestId));
  const countsByReason: Record<string, number> = {};
  for (const entry of entries) countsByReason[entry.reason] = (countsByReason[entry.reason] ?? 0) + 1;
  return { entries, total: entries.length, countsByReason };
}
