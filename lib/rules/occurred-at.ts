/**
 * When an event occurred, from what a sender writes: ISO 8601 / RFC 3339 (`2026-05-01T12:00:00Z`,
 * with a fraction or an offset, or a date alone), or a Unix time in seconds or milliseconds, as a
 * number or a string of digits. Seconds and milliseconds are told apart by size: a Unix time below
 * 10^11 is in seconds (10^11 s is the year 5138; 10^11 ms was 1973), so every time since 1973 reads
 * right either way. A date-time without an offset is taken as UTC (exports often omit it).
 */

const EPOCH = /^\d{1,16}(\.\d{1,9})?$/;
// YYYY-MM-DD, optionally Thh:mm[:ss[.fraction]] (or a space for T), optionally Z or ±hh[:]mm.
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const SECONDS_BELOW = 1e11;

const fromEpoch = (value: number): number => Math.round(value < SECONDS_BELOW ? value * 1000 : value);

function fromIso(text: string): number | undefined {
  const match = ISO.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', zone = 'Z'] = match;
  const offset =
    zone.toUpperCase() === 'Z' ? 'Z' : zone.length === 3 ? `${zone}:00` : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  const millis = fraction ? fraction.slice(0, 4).padEnd(4, '0') : '';
  const ms = Date.parse(`${year}-${month}-${day}T${hour}:${minute}:${second}${millis}${offset}`);
  if (Number.isNaN(ms)) return undefined;
  // Date.parse rolls 2026-02-30 over into March: a date that is not one is refused.
  const check = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  const real =
    check.getUTCFullYear() === Number(year) &&
    check.getUTCMonth() === Number(month) - 1 &&
    check.getUTCDate() === Number(day);
  return real && Number(hour) < 24 && Number(minute) < 60 && Number(second) < 60 ? ms : undefined;
}

/** The time in ms since the epoch, or undefined when `value` is not one of the forms above. */
export function parseOccurredAt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? fromEpoch(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (EPOCH.test(text)) return fromEpoch(Number(text));
  return fromIso(text);
}
