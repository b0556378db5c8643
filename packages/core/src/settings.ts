/**
 * A duration setting read from the environment: a non-negative number of milliseconds, or the
 * fallback when the variable is unset or not such a number (a typo must not turn a cache or a
 * write interval into NaN, which every comparison treats as false).
 */
export function millisecondsSetting(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
): number {
  const text = env[name]?.trim();
  const configured = Number(text);
  return text && Number.isFinite(configured) && configured >= 0 ? configured : fallback;
}
