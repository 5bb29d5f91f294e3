// What the demo prints at the end: a timeline (every event on one clock, relative to the
// kill) and the figures measured from it. Pure, so the arithmetic is unit-tested.
import type { WriteRecord } from './writer';

export interface TimelineEvent {
  /** ms on the demo's clock. */
  at: number;
  what: string;
}

export interface FailoverFigures {
  /** Kill → a surviving member reports a new leader. */
  leaderElectedMs?: number;
  /** Kill → the first write started after the kill is acknowledged. */
  writesResumedMs?: number;
  /** Longest time between two acknowledged writes, the later one after the kill. */
  longestAckGapMs: number;
}

export function failoverFigures(opts: { killAt: number; newLeaderAt?: number; records: WriteRecord[] }): FailoverFigures {
  const { killAt, newLeaderAt, records } = opts;
  const acked = records.filter((r) => r.outcome === 'acked');
  const resumed = acked.find((r) => r.startedAt >= killAt);
  // The longest wait for an acknowledgement that ended after the kill: the outage it caused.
  let gap = 0;
  for (let i = 1; i < acked.length; i++) {
    if (acked[i]!.endedAt < killAt) continue;
    gap = Math.max(gap, acked[i]!.endedAt - acked[i - 1]!.endedAt);
  }
  return {
    ...(newLeaderAt !== undefined ? { leaderElectedMs: newLeaderAt - killAt } : {}),
    ...(resumed ? { writesResumedMs: resumed.endedAt - killAt } : {}),
    longestAckGapMs: gap,
  };
}

/** `  +1.234 s  what` lines, in time order, relative to `origin` (the kill). */
export function formatTimeline(events: TimelineEvent[], origin: number): string {
  return [...events]
    .sort((a, b) => a.at - b.at)
    .map((e) => {
      const s = (e.at - origin) / 1000;
      const sign = s < 0 ? '-' : '+';
      return `  ${`${sign}${Math.abs(s).toFixed(3)} s`.padStart(11)}  ${e.what}`;
    })
    .join('\n');
}

export function ms(value: number | undefined): string {
  return value === undefined ? 'not seen' : `${Math.round(value)} ms`;
}
