// The scheduler's cache: every node and every pod bound (or assumed bound) to one, as
// NodeInfos kept current from informer events. "Assume" puts a pod on its chosen node at
// once, before the binding call returns, so the next decision counts it; a failed binding
// forgets it, and the informer's view of the bound pod confirms it.

import type { Node, Pod } from '@keel/api';
import { ClusterObjects } from './cluster-objects';
import { NodeInfo } from './node-info';
import { hasAffinity, newPodInfo, podKey, type PodInfo } from './pod-info';
import { NodeIndex, Snapshot } from './snapshot';

interface PodState {
  info: PodInfo;
  node: string;
  assumed: boolean;
}

export class SchedulerCache {
  private readonly nodes = new Map<string, NodeInfo>();
  /** Names of nodes whose Node object we have (pods may arrive before their node). */
  private readonly known = new Set<string>();
  private readonly pods = new Map<string, PodState>();
  private index?: NodeIndex;
  /** Which nodes hold pods with (anti-)affinity; dropped when such a pod or a node comes or goes. */
  private affinityMemo?: { affinity: NodeInfo[]; antiAffinity: NodeInfo[] };
  /** Which node's pods changed at each version, so plugins can update counts incrementally. */
  private readonly changes = new ChangeLog();
  /** Namespaces, Services and ReplicaSets, for affinity namespaceSelectors and default spreading. */
  readonly objects = new ClusterObjects();

  addNode(node: Node): void {
    const name = node.metadata.name ?? '';
    const existing = this.nodes.get(name);
    if (existing) existing.setNode(node);
    else this.nodes.set(name, new NodeInfo(node));
    this.known.add(name);
    this.index = undefined;
    this.affinityMemo = undefined;
  }

  updateNode(node: Node): void {
    this.addNode(node);
  }

  removeNode(name: string): void {
    this.known.delete(name);
    const info = this.nodes.get(name);
    // Pods still bound there stay counted until their own deletes arrive.
    if (info && info.pods.length === 0) this.nodes.delete(name);
    this.index = undefined;
    this.affinityMemo = undefined;
  }

  private nodeFor(name: string): NodeInfo {
    let info = this.nodes.get(name);
    if (!info) this.nodes.set(name, (info = new NodeInfo({ metadata: { name } })));
    return info;
  }

  /** A pod the informer shows bound to a node (confirms it if it was assumed). */
  addPod(pod: Pod): void {
    const node = pod.spec?.nodeName;
    if (!node) return;
    const key = podKey(pod);
    const current = this.pods.get(key);
    if (current) this.removeFromNode(current);
    const info = newPodInfo(pod);
    if (hasAffinity(info)) this.affinityMemo = undefined;
    this.nodeFor(node).addPod(info);
    this.changes.record(node);
    this.pods.set(key, { info, node, assumed: false });
  }

  updatePod(pod: Pod): void {
    this.addPod(pod);
  }

  removePod(pod: Pod): void {
    const key = podKey(pod);
    const current = this.pods.get(key);
    if (!current) return;
    this.removeFromNode(current);
    this.pods.delete(key);
    const info = this.nodes.get(current.node);
    if (info && info.pods.length === 0 && !this.known.has(current.node)) this.nodes.delete(current.node);
  }

  /** Counts the pod on `node` now, before the binding is confirmed. */
  assumePod(info: PodInfo, node: string): void {
    const pod: Pod = { ...info.pod, spec: { ...info.pod.spec!, nodeName: node } };
    const assumed: PodInfo = { ...info, pod };
    if (hasAffinity(info)) this.affinityMemo = undefined;
    this.nodeFor(node).addPod(assumed);
    this.changes.record(node);
    this.pods.set(info.key, { info: assumed, node, assumed: true });
  }

  /** Undoes assumePod after a failed binding. */
  forgetPod(key: string): void {
    const current = this.pods.get(key);
    if (!current?.assumed) return;
    this.removeFromNode(current);
    this.pods.delete(key);
  }

  private removeFromNode(state: PodState): void {
    this.nodes.get(state.node)?.removePod(state.info.key);
    this.changes.record(state.node);
    if (hasAffinity(state.info)) this.affinityMemo = undefined;
  }

  isAssumed(key: string): boolean {
    return this.pods.get(key)?.assumed ?? false;
  }

  /** Whether the pod is counted on some node (bound or assumed). */
  hasPod(key: string): boolean {
    return this.pods.has(key);
  }

  nodeCount(): number {
    return this.known.size;
  }

  /**
   * The cluster for this cycle. The NodeInfos are the live ones (a cycle is synchronous);
   * the node list and its index are rebuilt only when a node came or went or changed.
   */
  snapshot(): Snapshot {
    if (!this.index) {
      const list = [...this.nodes.values()].filter((n) => this.known.has(n.name));
      this.index = new NodeIndex(list);
    }
    return new Snapshot(this.index.nodeInfos, this.index, () => {
      const nodes = this.index!.nodeInfos;
      return (this.affinityMemo ??= {
        affinity: nodes.filter((n) => n.podsWithAffinity.length > 0),
        antiAffinity: nodes.filter((n) => n.podsWithRequiredAntiAffinity.length > 0),
      });
    }, this.changes, this.objects);
  }
}

/**
 * A bounded log of (version, node name) for pod changes. A plugin that remembers counts as of
 * version v asks for the nodes changed since; when v has fallen off the log it recounts.
 */
export class ChangeLog {
  version = 0;
  private versions: number[] = [];
  private names: string[] = [];
  private static readonly max = 65_536;

  record(node: string): void {
    this.version++;
    this.versions.push(this.version);
    this.names.push(node);
    if (this.versions.length > ChangeLog.max) {
      this.versions = this.versions.slice(ChangeLog.max / 2);
      this.names = this.names.slice(ChangeLog.max / 2);
    }
  }

  /** Distinct nodes changed after `since`, or undefined when the log no longer reaches back. */
  changedSince(since: number): Set<string> | undefined {
    if (since === this.version) return new Set();
    const first = this.versions[0];
    if (first === undefined || first > since + 1) return undefined;
    let lo = 0;
    let hi = this.versions.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.versions[mid]! <= since) lo = mid + 1;
      else hi = mid;
    }
    return new Set(this.names.slice(lo));
  }
}
