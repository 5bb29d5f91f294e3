// Text renderings of the core's data (entries, messages, hard state, conf state, Ready),
// one line per item, stable across runs. The interaction tests compare against these,
// and an application can use them in its logs.

import type { Ready } from './node';
import { ConfChange, Snapshot, type ConfState, type Entry, type HardState, type Message, type StateType } from './types';

/** How many bytes of data a description shows; log lines stay short for big entries. */
const SHOWN_BYTES = 32;

/** Bytes as text when printable ASCII, else as hex; long data is cut and its length given. */
export function describeBytes(data: Uint8Array | undefined): string {
  if (!data || data.length === 0) return '""';
  const shown = data.subarray(0, SHOWN_BYTES);
  const more = data.length > SHOWN_BYTES ? `...(${data.length} bytes)` : '';
  let printable = true;
  for (const b of shown) if (b < 0x20 || b > 0x7e || b === 0x22) printable = false;
  if (printable) return `"${String.fromCharCode(...shown)}"${more}`;
  let hex = '0x';
  for (const b of shown) hex += b.toString(16).padStart(2, '0');
  return hex + more;
}

export function describeConfChange(cc: ConfChange): string {
  const verb = cc.type === 'addNode' ? 'add' : cc.type === 'addLearner' ? 'add-learner' : 'remove';
  return `${verb} ${cc.nodeId}`;
}

/** `term/index type data`, e.g. `1/3 EntryNormal "x"` or `2/7 EntryConfChange add 4`. */
export function describeEntry(e: Entry): string {
  if (e.type === 'confChange') {
    let what: string;
    try {
      what = describeConfChange(ConfChange.decode(e.data));
    } catch {
      what = describeBytes(e.data);
    }
    return `${e.term}/${e.index} EntryConfChange ${what}`;
  }
  return `${e.term}/${e.index} EntryNormal ${describeBytes(e.data)}`;
}

export function describeEntries(es: readonly Entry[]): string {
  return es.map(describeEntry).join(', ');
}

export function describeConfState(cs: ConfState): string {
  let s = `voters=(${[...cs.voters].sort((a, b) => a - b).join(' ')})`;
  if (cs.learners.length > 0) s += ` learners=(${[...cs.learners].sort((a, b) => a - b).join(' ')})`;
  return s;
}

export function describeSnapshot(s: Snapshot): string {
  const m = s.metadata;
  return `Index:${m.index} Term:${m.term} ConfState:${describeConfState(m.confState)}`;
}

export function describeHardState(hs: HardState): string {
  return `Term:${hs.term} Vote:${hs.vote} Commit:${hs.commit}`;
}

const stateNames: Record<StateType, string> = {
  follower: 'StateFollower',
  'pre-candidate': 'StatePreCandidate',
  candidate: 'StateCandidate',
  leader: 'StateLeader',
};

export function describeState(s: StateType): string {
  return stateNames[s];
}

/** `from->to Type Term:t ...`, printing only the fields that matter for that type. */
export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${m.type} Term:${m.term} Log:${m.logTerm}/${m.index}`;
  if (m.reject) s += ` Rejected (Hint: ${m.rejectHint})`;
  if (m.commit !== 0) s += ` Commit:${m.commit}`;
  if (m.entries.length > 0) s += ` Entries:[${describeEntries(m.entries)}]`;
  if (m.context && m.context.length > 0) s += ` Context:${describeBytes(m.context)}`;
  if (m.snapshot && !Snapshot.isEmpty(m.snapshot)) s += ` Snapshot: ${describeSnapshot(m.snapshot)}`;
  return s;
}

/** A Ready as a block of lines, in the order the application handles it. */
export function describeReady(rd: Ready): string {
  const lines: string[] = [`Ready MustSync=${rd.mustSync}:`];
  if (rd.softState) lines.push(`Lead:${rd.softState.lead} State:${describeState(rd.softState.raftState)}`);
  if (rd.hardState) lines.push(`HardState ${describeHardState(rd.hardState)}`);
  if (rd.readStates.length > 0) {
    lines.push('ReadStates:');
    for (const rs of rd.readStates) lines.push(`Index:${rs.index} RequestCtx:${describeBytes(rs.requestCtx)}`);
  }
  if (rd.entries.length > 0) {
    lines.push('Entries:');
    for (const e of rd.entries) lines.push(describeEntry(e));
  }
  if (rd.snapshot) lines.push(`Snapshot ${describeSnapshot(rd.snapshot)}`);
  if (rd.committedEntries.length > 0) {
    lines.push('CommittedEntries:');
    for (const e of rd.committedEntries) lines.push(describeEntry(e));
  }
  if (rd.messages.length > 0) {
    lines.push('Messages:');
    for (const m of rd.messages) lines.push(describeMessage(m));
  }
  return lines.join('\n');
}
