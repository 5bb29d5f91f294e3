// CRI timestamps are int64 nanoseconds since the Unix epoch. They exceed 2^53, so they
// travel as decimal strings (the loader's `longs: String`) and are compared as bigint;
// converting to a JS number or Date loses the last digits and is only for display.

/** A CRI int64 nanosecond value (string from the wire, or bigint) as a bigint; '' is 0. */
export function nanos(value: string | bigint | number | undefined | null): bigint {
  if (value === undefined || value === null || value === '') return 0n;
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return BigInt(Math.trunc(value));
  return BigInt(value);
}

/** A Date for display; sub-millisecond digits are dropped. */
export function nanosToDate(value: string | bigint): Date {
  return new Date(Number(nanos(value) / 1_000_000n));
}

/** Now, in nanoseconds, from a millisecond clock (the precision Node's Date offers). */
export function dateToNanos(date: Date): bigint {
  return BigInt(date.getTime()) * 1_000_000n;
}
