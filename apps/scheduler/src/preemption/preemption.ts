// Preemption (kube-scheduler's DefaultPreemption PostFilter): when a pod fits nowhere, find
// the node where evicting lower-priority pods makes it fit, evicting as few as possible.
// Per node: remove every lower-priority pod, check the pod fits, then give pods back
// highest priority first while it still fits; what cannot be given back are the victims.
// Among nodes: fewest victims, then the lowest highest victim priority, then the lowest sum
// of victim priorities. Nodes rejected as unresolvable (taints, affinity) are not tried,
// since no eviction changes them. Works on clones; the cache is never touched.

import type { Framework } from '../framework/framework';
import type { PodInfo } from '../framework/pod-info';
import type { Snapshot } from '../framework/snapshot';
import type { Diagnosis } from '../core/fit-error';
import { formatHistogram } from '../core/fit-error';

export interface Candidate {
  node: string;
  victims: PodInfo[];
}

export type PreemptionResult = { ok: true; candidate: Candidate } | { ok: false; message: string };

/** Stop after this many candidate nodes, as Kubernetes' minCandidateNodesAbsolute. */
const maxCandidates = 100;

export function selectVictimsOnNode(fw: Framework, pod: PodInfo, nodeName: string, snapshot: Snapshot): PodInfo[] | undefined {
  const original = snapshot.get(nodeName);
  if (!original) return undefined;
  const node = original.clone();
  const lower = node.pods.filter((p) => p.priority < pod.priority);
  if (lower.length === 0) return undefined;
  for (const p of lower) node.removePod(p.key);
  if (fw.fits(pod, node, snapshot.replacing(node)).code !== 'Success') return undefined;
  // Highest priority first, so the pods most worth keeping are reprieved first.
  const ordered = [...lower].sort((a, b) => b.priority - a.priority);
  const victims: PodInfo[] = [];
  for (const p of ordered) {
    node.addPod(p);
    if (fw.fits(pod, node, snapshot.replacing(node)).code !== 'Success') {
      node.removePod(p.key);
      victims.push(p);
    }
  }
  return victims;
}

function better(a: Candidate, b: Candidate): boolean {
  if (a.victims.length !== b.victims.length) return a.victims.length < b.victims.length;
  const maxA = Math.max(...a.victims.map((v) => v.priority));
  const maxB = Math.max(...b.victims.map((v) => v.priority));
  if (maxA !== maxB) return maxA < maxB;
  const sum = (c: Candidate) => c.victims.reduce((s, v) => s + v.priority, 0);
  return sum(a) < sum(b);
}

export function preempt(fw: Framework, pod: PodInfo, snapshot: Snapshot, diagnosis: Diagnosis): PreemptionResult {
  const total = snapshot.nodeInfos.length;
  if (pod.pod.spec?.preemptionPolicy === 'Never') return { ok: false, message: 'not eligible due to preemptionPolicy=Never' };
  // Already nominated and lower-priority pods there are terminating: wait for them.
  const nominated = pod.pod.status?.nominatedNodeName;
  if (nominated) {
    const n = snapshot.get(nominated);
    if (n?.pods.some((p) => p.pod.metadata.deletionTimestamp && p.priority < pod.priority)) {
      return { ok: false, message: 'not eligible due to terminating pod on the nominated node' };
    }
  }
  const reasons = new Map<string, number>();
  const note = (r: string) => reasons.set(r, (reasons.get(r) ?? 0) + 1);
  let best: Candidate | undefined;
  let found = 0;
  for (const node of snapshot.nodeInfos) {
    const status = diagnosis.nodeStatuses.get(node.name);
    if (!status || status.code === 'UnschedulableAndUnresolvable') {
      note('Preemption is not helpful for scheduling');
      continue;
    }
    if (found >= maxCandidates) continue;
    const victims = selectVictimsOnNode(fw, pod, node.name, snapshot);
    if (!victims || victims.length === 0) {
      note('No preemption victims found for incoming pod');
      continue;
    }
    found++;
    const candidate = { node: node.name, victims };
    if (!best || better(candidate, best)) best = candidate;
  }
  if (best) return { ok: true, candidate: best };
  return { ok: false, message: `0/${total} nodes are available: ${formatHistogram(reasons)}` };
}
