// Key ranges as etcd spells them, turned into something easy to test against. Keys are
// handled internally as latin1 strings: one char per byte, so JavaScript's string order
// is exactly etcd's byte order and the strings work as Map keys.
import type { KeyRange } from './types';

/** A range over latin1 keys: one key, [start, end), or every key >= start (end undefined). */
export interface Span {
  start: string;
  end: string | undefined;
  single: boolean;
}

export function latin1(buf: Buffer): string {
  return buf.toString('latin1');
}

export function fromLatin1(key: string): Buffer {
  return Buffer.from(key, 'latin1');
}

export function toSpan(range: KeyRange): Span {
  const start = latin1(range.key);
  const end = range.rangeEnd;
  if (!end || end.length === 0) return { start, end: start, single: true };
  if (end.length === 1 && end[0] === 0) return { start, end: undefined, single: false };
  return { start, end: latin1(end), single: false };
}

export function inSpan(span: Span, key: string): boolean {
  if (span.single) return key === span.start;
  return key >= span.start && (span.end === undefined || key < span.end);
}

/** The range_end that selects every key with this prefix (etcd's GetPrefixRangeEnd). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  // All 0xff (or empty): no upper bound, which etcd spells "\0".
  return Buffer.of(0);
}

/** Whether two spans share at least one key (for the duplicate-key check of a txn). */
export function spansOverlap(a: Span, b: Span): boolean {
  const aEnd = a.single ? a.start + '\0' : a.end;
  const bEnd = b.single ? b.start + '\0' : b.end;
  const aBeforeB = aEnd !== undefined && aEnd <= b.start;
  const bBeforeA = bEnd !== undefined && bEnd <= a.start;
  return !aBeforeB && !bBeforeA;
}
