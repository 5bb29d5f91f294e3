// Parsing of the security flags' values that are not plain strings or numbers.
import { InvalidArgumentError } from 'commander';

const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1 };

/** A Go-style duration (`48h`, `1h30m`, `600s`) or plain seconds, in seconds. */
export function parseDuration(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const parts = [...value.matchAll(/(\d+)([hms])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) throw new InvalidArgumentError('expected a duration such as 48h, 90m or 3600s');
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_SECONDS[p[2]!]!, 0);
}
