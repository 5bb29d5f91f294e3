// `keel describe`: a readable summary of any object — name, namespace, labels, annotations,
// owner, then its spec and status as indented `Field: value` lines (capitalised as kubectl's
// generic describer does) — followed by the object's Events, oldest first.
import { padColumns } from './table';
import type { KubeObj } from './objects';

export interface EventObj {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  metadata?: { creationTimestamp?: string };
  source?: { component?: string; host?: string };
  reportingController?: string;
}

/** kubectl's short duration: 45s, 3m12s, 5h, 2d3h, 400d. */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  return d < 365 * 2 ? `${d}d` : `${Math.floor(d / 365)}y`;
}

export function age(ts: string | null | undefined, now: Date): string {
  if (!ts) return '<unknown>';
  return shortDuration(now.getTime() - Date.parse(ts));
}

function title(key: string): string {
  return key.charAt(0).toUpperCase() + key.slice(1);
}

function mapLines(label: string, m: Record<string, string> | undefined, pad: number): string[] {
  const entries = Object.entries(m ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (!entries.length) return [`${`${label}:`.padEnd(pad)}<none>`];
  return entries.map(([k, v], i) => `${(i === 0 ? `${label}:` : '').padEnd(pad)}${label === 'Labels' ? `${k}=${v}` : `${k}: ${v.length > 120 ? `${v.slice(0, 117)}...` : v}`}`);
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return '<none>';
  if (typeof v === 'string') return v === '' ? '""' : v;
  return String(v);
}

/** Fields whose keys are data (label keys, config keys), not field names: printed as they are. */
const DATA_MAPS = new Set(['labels', 'annotations', 'matchLabels', 'selector', 'nodeSelector', 'data', 'stringData', 'binaryData', 'capacity', 'allocatable', 'limits', 'requests', 'hard', 'used']);

/** Nested fields as indented lines: maps nest, scalar lists join with commas, object lists are items. */
export function fieldLines(v: unknown, indent: number, dataKeys = false): string[] {
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  if (v === null || typeof v !== 'object') return [`${pad}${scalar(v)}`];
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const key = `${pad}${dataKeys ? k : title(k)}:`;
    if (Array.isArray(x)) {
      if (x.length === 0) out.push(`${key}  <none>`);
      else if (x.every((e) => e === null || typeof e !== 'object')) out.push(`${key}  ${x.map(scalar).join(', ')}`);
      else {
        out.push(key);
        for (const item of x) {
          const lines = fieldLines(item, indent + 4);
          if (lines.length) lines[0] = `${pad}  - ${lines[0]!.trimStart()}`;
          out.push(...lines);
        }
      }
    } else if (x !== null && typeof x === 'object') {
      if (Object.keys(x).length === 0) out.push(`${key}  <none>`);
      else out.push(key, ...fieldLines(x, indent + 2, DATA_MAPS.has(k)));
    } else {
      out.push(`${key}  ${scalar(x)}`);
    }
  }
  return out;
}

export function eventLines(events: EventObj[], now: Date): string[] {
  if (!events.length) return ['Events:  <none>'];
  const when = (e: EventObj) => e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '';
  const sorted = [...events].sort((a, b) => when(a).localeCompare(when(b)));
  const rows = sorted.map((e) => {
    const first = e.firstTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp;
    const count = e.count ?? 1;
    const ageText = count > 1 ? `${age(when(e), now)} (x${count} over ${age(first, now)})` : age(when(e), now);
    return [e.type ?? '', e.reason ?? '', ageText, e.source?.component ?? e.reportingController ?? '', (e.message ?? '').trim()];
  });
  const table = padColumns([['Type', 'Reason', 'Age', 'From', 'Message'], ['----', '------', '----', '----', '-------'], ...rows]);
  return ['Events:', ...table.split('\n').map((l) => `  ${l}`)];
}

export function describeObject(obj: KubeObj, events: EventObj[] | undefined, now: Date): string {
  const md = obj.metadata ?? {};
  const pad = 14;
  const lines: string[] = [`${'Name:'.padEnd(pad)}${md.name ?? ''}`];
  if (md.namespace) lines.push(`${'Namespace:'.padEnd(pad)}${md.namespace}`);
  lines.push(`${'Kind:'.padEnd(pad)}${obj.kind ?? ''}`, `${'API Version:'.padEnd(pad)}${obj.apiVersion ?? ''}`);
  lines.push(...mapLines('Labels', md.labels, pad), ...mapLines('Annotations', md.annotations, pad));
  if (md.creationTimestamp) lines.push(`${'Created:'.padEnd(pad)}${md.creationTimestamp} (${age(md.creationTimestamp, now)} ago)`);
  if (md.deletionTimestamp) lines.push(`${'Deleting:'.padEnd(pad)}since ${md.deletionTimestamp}`);
  const owner = md.ownerReferences?.find((o) => o.controller) ?? md.ownerReferences?.[0];
  if (owner) lines.push(`${'Controlled By:'.padEnd(pad)}${owner.kind}/${owner.name}`);
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind' || k === 'metadata') continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      lines.push(`${title(k)}:`, ...fieldLines(v, 2));
    } else {
      lines.push(...fieldLines({ [k]: v }, 0));
    }
  }
  if (events) lines.push(...eventLines(events, now));
  return lines.join('\n');
}
