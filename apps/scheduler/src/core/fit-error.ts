// Why a pod fits nowhere, and the message Kubernetes prints for it — in the FailedScheduling
// event and the PodScheduled=False condition:
//   0/5 nodes are available: 3 Insufficient cpu, 2 node(s) had untolerated taint {key: value}.
// Each rejecting node contributes every reason of its first failing filter; the counted
// reasons are sorted as strings; a PreFilter rejection and preemption's verdict are appended
// as their own sentences, as FitError.Error() does.

import type { Status } from '../framework/status';

export interface Diagnosis {
  /** Node name → the status that rejected it. */
  nodeStatuses: Map<string, Status>;
  /** Plugins that rejected the pod somewhere (the queue retries on their events). */
  unschedulablePlugins: Set<string>;
  preFilterMessage?: string;
  postFilterMessage?: string;
}

export function newDiagnosis(): Diagnosis {
  return { nodeStatuses: new Map(), unschedulablePlugins: new Set() };
}

export function reasonHistogram(statuses: Iterable<Status>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of statuses) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}

/** `reason → count` as Kubernetes joins it: "3 Insufficient cpu, 2 Too many pods" sorted. */
export function formatHistogram(counts: Map<string, number>): string {
  return [...counts].map(([reason, n]) => `${n} ${reason}`).sort().join(', ');
}

export function fitErrorMessage(numAllNodes: number, d: Diagnosis): string {
  let message = `0/${numAllNodes} nodes are available:`;
  if (d.preFilterMessage) message += ` ${d.preFilterMessage}.`;
  const histogram = formatHistogram(reasonHistogram(d.nodeStatuses.values()));
  if (histogram) message += ` ${histogram}.`;
  if (d.postFilterMessage) message += ` ${d.postFilterMessage}.`;
  return message;
}
