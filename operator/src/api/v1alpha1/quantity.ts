// Kubernetes quantities ("512Mi", "1G", "500m") and durations ("90m", "24h", "7d") as the spec holds
// them, converted to the numbers the proxy configuration wants. Pure.

const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Readonly<Record<string, number>> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, m: 1e-3 };

/** A quantity as the CRD accepts it (a subset of resource.Quantity: no exponent form). */
export const QUANTITY_PATTERN = /^([0-9]+(\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?$/;

/** A duration: one or more `<integer><unit>` with units s, m, h, d (`1h30m`). */
export const DURATION_PATTERN = /^([0-9]+(s|m|h|d))+$/;

const DURATION_UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Bytes of a quantity such as `1Gi` or `500M`, rounded down; throws RangeError on other text. */
export function quantityToBytes(quantity: string): number {
  const match = QUANTITY_PATTERN.exec(quantity);
  if (match === null) throw new RangeError(`not a quantity: '${quantity}'`);
  const suffix = match[3] ?? '';
  const factor = BINARY[suffix] ?? DECIMAL[suffix] ?? 1;
  return Math.floor(Number(match[1]) * factor);
}

/** Seconds of a duration such as `24h` or `1h30m`; throws RangeError on other text. */
export function durationToSeconds(duration: string): number {
  if (!DURATION_PATTERN.test(duration)) throw new RangeError(`not a duration: '${duration}'`);
  let seconds = 0;
  for (const [, amount, unit] of duration.matchAll(/([0-9]+)(s|m|h|d)/g)) {
    seconds += Number(amount) * (DURATION_UNIT_SECONDS[unit ?? 's'] ?? 1);
  }
  return seconds;
}
