// Checks watch streams against the store's history of writes. The reference history is
// itself read from the store (a watch from revision 1 once the run is over) and checked
// first: revisions never go back, no (revision, key) twice. Then each watch: its events are
// ordered by revision, none twice, each one is a write of the reference history with the
// same type and value, and between its start revision and the last revision it is known to
// have covered (its last event or progress notification) it missed no write on its range.
// A watch resumed after another must start right after what the other covered.
import type { HistoryEvent } from './kv-model';

export interface WatchRange {
  key: string;
  /** Exclusive end; absent for the single key. */
  end?: string;
}

export interface WatchRecord {
  id: string;
  range: WatchRange;
  startRevision: number;
  events: HistoryEvent[];
  /** The highest revision a progress notification said was complete, if any. */
  progressRevision?: number;
  /** The watch this one continues, started where that one stopped. */
  resumedFrom?: string;
}

export const inRange = (r: WatchRange, key: string): boolean => (r.end === undefined ? key === r.key : key >= r.key && key < r.end);

const eventId = (e: HistoryEvent) => `${e.modRevision}\u0000${e.key}`;
const show = (e: HistoryEvent) => `${e.type} ${e.key}${e.value !== undefined ? `=${e.value}` : ''} @${e.modRevision}`;

/** The revision through which a watch has seen everything. */
export function coveredRevision(w: WatchRecord): number {
  const last = w.events.length ? w.events[w.events.length - 1]!.modRevision : w.startRevision - 1;
  return Math.max(last, w.progressRevision ?? 0);
}

function checkOrder(name: string, events: HistoryEvent[], anomalies: string[]): void {
  const seen = new Set<string>();
  let prev = 0;
  for (const e of events) {
    if (e.modRevision < prev) anomalies.push(`${name}: out of order: ${show(e)} after revision ${prev}`);
    prev = Math.max(prev, e.modRevision);
    const id = eventId(e);
    if (seen.has(id)) anomalies.push(`${name}: duplicate ${show(e)}`);
    seen.add(id);
  }
}

export function checkWatches(reference: HistoryEvent[], watches: WatchRecord[]): string[] {
  const anomalies: string[] = [];
  checkOrder('store history', reference, anomalies);
  const byId = new Map(reference.map((e) => [eventId(e), e]));
  const records = new Map(watches.map((w) => [w.id, w]));
  for (const w of watches) {
    const name = `watch ${w.id}`;
    checkOrder(name, w.events, anomalies);
    for (const e of w.events) {
      if (!inRange(w.range, e.key)) anomalies.push(`${name}: ${show(e)} is outside its range`);
      if (e.modRevision < w.startRevision) anomalies.push(`${name}: ${show(e)} is before its start revision ${w.startRevision}`);
      const r = byId.get(eventId(e));
      if (!r) anomalies.push(`${name}: ${show(e)} is no write of the store's history`);
      else if (r.type !== e.type || r.value !== e.value) anomalies.push(`${name}: ${show(e)} but the store's history has ${show(r)}`);
    }
    const covered = coveredRevision(w);
    const got = new Set(w.events.map(eventId));
    for (const r of reference) {
      if (r.modRevision < w.startRevision || r.modRevision > covered || !inRange(w.range, r.key)) continue;
      if (!got.has(eventId(r))) anomalies.push(`${name}: gap: missed ${show(r)} (covered ${w.startRevision}..${covered})`);
    }
    if (w.resumedFrom !== undefined) {
      const before = records.get(w.resumedFrom);
      if (!before) anomalies.push(`${name}: resumes unknown watch ${w.resumedFrom}`);
      else if (w.startRevision !== coveredRevision(before) + 1)
        anomalies.push(`${name}: resumed at ${w.startRevision}, but ${before.id} covered through ${coveredRevision(before)}`);
    }
  }
  return anomalies;
}

/** An acknowledged write as the client saw it. */
export interface AckedWrite {
  type: 'PUT' | 'DELETE';
  key: string;
  value?: string;
  revision: number;
}

/** Every acknowledged write is in the store's history, at the revision it was acknowledged with. */
export function checkAckedWrites(reference: HistoryEvent[], acked: AckedWrite[]): string[] {
  const byId = new Map(reference.map((e) => [eventId(e), e]));
  const anomalies: string[] = [];
  for (const a of acked) {
    const e = byId.get(`${a.revision}\u0000${a.key}`);
    if (!e || e.type !== a.type || e.value !== a.value)
      anomalies.push(`lost write: ${a.type} ${a.key}${a.value !== undefined ? `=${a.value}` : ''} acknowledged at revision ${a.revision}${e ? `, history has ${show(e)}` : ''}`);
  }
  return anomalies;
}
