/**
 * Writers of one entity in one process take turns. Lambda runs one event per container, so there
 * this never waits; the local runtime runs many executions in one process, where racing for one
 * item would only burn store calls on compare-and-swaps that lose. Across processes the
 * compare-and-swap and the workflow's contention retrier still decide.
 */
const tails = new Map<string, Promise<unknown>>();

export async function inTurn<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = tails.get(key) ?? Promise.resolve();
  const mine = previous.then(work, work);
  const tail = mine.catch(() => undefined);
  tails.set(key, tail);
  try {
    return await mine;
  } finally {
    // The last in line clears the entry, so the map holds only entities with work in flight.
    if (tails.get(key) === tail) tails.delete(key);
  }
}
