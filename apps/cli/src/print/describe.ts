// `keel describe`: kubectl's own layouts for the kinds users describe most — Pod, Deployment,
// ReplicaSet, Job, Service, Node and Namespace (see ./describe/) — and for every other kind a
// readable summary: name, namespace, labels, annotations, owner, then its spec and status as
// indented `Field: value` lines (capitalised as kubectl's generic describer does). Either is
// followed by the object's Events, oldest first. Formatting only: whatever else a layout
// needs (a node's pods, a service's endpoints) the command fetches and passes in.
import type { Deployment, EndpointSlice, Job, Lease, Namespace, Node, Pod, ReplicaSet, Service } from '@keel/api';
import { padColumns } from './table';
import type { KubeObj } from './objects';
import { NO_EVENTS } from './describe/common';
import { age } from './describe/duration';
import { describeNode } from './describe/node';
import { describePod } from './describe/pod';
import { describeNamespace, describeService } from './describe/service';
import { tabwrite } from './describe/tabwriter';
import { describeDeployment, describeJob, describeReplicaSet } from './describe/workloads';

export { age, shortDuration } from './describe/duration';

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

/** The kinds with a layout of their own, by `group/Kind` (`/Pod` for the core group). */
export type DescribedKind = '/Pod' | 'apps/Deployment' | 'apps/ReplicaSet' | 'batch/Job' | '/Service' | '/Node' | '/Namespace';

const DESCRIBED = new Set<string>(['/Pod', 'apps/Deployment', 'apps/ReplicaSet', 'batch/Job', '/Service', '/Node', '/Namespace']);

/** Which layout an object gets, from its apiVersion and kind; undefined for the generic one. */
export function describedKind(apiVersion: string | undefined, kind: string | undefined): DescribedKind | undefined {
  const group = apiVersion?.includes('/') ? apiVersion.split('/')[0] : '';
  const key = `${group}/${kind ?? ''}`;
  return DESCRIBED.has(key) ? (key as DescribedKind) : undefined;
}

/** What a layout needs beyond the object itself; the command fills in what the kind asks for. */
export interface Related {
  /** Deployment: the ReplicaSets in its namespace (it picks those it controls). */
  replicaSets?: ReplicaSet[];
  /** ReplicaSet: the pods its selector matches, or why they could not be listed. */
  pods?: Pod[] | string;
  /** Service: its EndpointSlices. */
  endpointSlices?: EndpointSlice[];
  /** Node: its non-terminated pods (undefined when the user may not list pods)... */
  nodePods?: Pod[];
  /** ...and its heartbeat Lease, or why it could not be read. */
  lease?: Lease | { error: string };
}

function kindLines(kind: DescribedKind, obj: KubeObj, related: Related, now: Date): string[] {
  switch (kind) {
    case '/Pod':
      return describePod(obj as Pod, now);
    case 'apps/Deployment':
      return describeDeployment(obj as Deployment, related.replicaSets);
    case 'apps/ReplicaSet':
      return describeReplicaSet(obj as ReplicaSet, related.pods ?? []);
    case 'batch/Job':
      return describeJob(obj as Job);
    case '/Service':
      return describeService(obj as Service, related.endpointSlices ?? []);
    case '/Node':
      return describeNode(obj as Node, { pods: related.nodePods, lease: related.lease ?? { error: 'not fetched' } }, now);
    case '/Namespace':
      return describeNamespace(obj as Namespace);
  }
}

/**
 * An object as `keel describe` prints it: its kind's own layout when it has one, else the
 * generic one; then its events (none when `events` is undefined, i.e. --show-events=false).
 */
export function describe(obj: KubeObj, related: Related, events: EventObj[] | undefined, now: Date): string {
  const kind = describedKind(obj.apiVersion, obj.kind);
  if (!kind) return describeObject(obj, events, now);
  const lines = kindLines(kind, obj, related, now);
  // kubectl's "Events: <none>" shares the alignment of the lines above it; a table of events does not.
  if (events && !events.length) lines.push(NO_EVENTS);
  const text = tabwrite(lines).join('\n');
  return events?.length ? `${text}\n${eventLines(events, now).join('\n')}` : text;
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
      lines.push(`${title(k)}:`, ...fieldLines(v, 2, DATA_MAPS.has(k)));
    } else {
      lines.push(...fieldLines({ [k]: v }, 0));
    }
  }
  if (events) lines.push(...eventLines(events, now));
  return lines.join('\n');
}
