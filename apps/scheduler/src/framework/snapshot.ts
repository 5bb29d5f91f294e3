// A view of the cluster for one scheduling cycle: the NodeInfos in a stable order, by name,
// and the nodes that hold pods with (anti-)affinity, which the InterPodAffinity plugin scans
// instead of every pod. Scheduling runs synchronously in one turn of the event loop, so the
// cache's NodeInfos can be read directly; preemption builds a snapshot over clones. The
// cluster's other objects a plugin reads (namespaces, Services, ReplicaSets) come along.

import { ClusterObjects } from './cluster-objects';
import type { NodeInfo } from './node-info';

/** The cache's record of which nodes' pods changed, by version. */
export interface PodChanges {
  readonly version: number;
  changedSince(version: number): Set<string> | undefined;
}

/** What depends only on the set of nodes and their objects, shared until a node changes. */
export class NodeIndex {
  readonly byName: Map<string, NodeInfo>;
  private readonly imageCounts = new Map<string, number>();

  constructor(readonly nodeInfos: readonly NodeInfo[]) {
    this.byName = new Map(nodeInfos.map((n) => [n.name, n]));
  }

  /** How many nodes hold this (normalized) image; memoized, as images change only with nodes. */
  imageNodeCount(image: string): number {
    let n = this.imageCounts.get(image);
    if (n === undefined) {
      n = 0;
      for (const info of this.nodeInfos) if (info.imageSizes.has(image)) n++;
      this.imageCounts.set(image, n);
    }
    return n;
  }
}

export class Snapshot {
  readonly nodeInfos: readonly NodeInfo[];
  private affinityNodes?: NodeInfo[];
  private antiAffinityNodes?: NodeInfo[];

  constructor(
    nodeInfos: readonly NodeInfo[],
    private readonly index: NodeIndex = new NodeIndex(nodeInfos),
    /** The cache's memo of the two affinity lists, so a cycle need not scan every node. */
    private readonly affinityLists?: () => { affinity: NodeInfo[]; antiAffinity: NodeInfo[] },
    private readonly changes?: PodChanges,
    /** Namespaces, Services and ReplicaSets; none known for a snapshot built without them. */
    readonly objects: ClusterObjects = new ClusterObjects(),
  ) {
    this.nodeInfos = nodeInfos;
    this.version = changes?.version;
  }

  /** The pod-change version this snapshot reflects; undefined for snapshots outside the cache. */
  readonly version: number | undefined;

  /** Identifies the node set: equal while no node came, went or changed. */
  get nodeSetIdentity(): object {
    return this.index;
  }

  /**
   * The nodes whose pods changed after `version` (by name), or undefined when unknown
   * (a snapshot outside the cache, or a version too old): then recount everything.
   */
  changedSince(version: number): Set<string> | undefined {
    return this.changes?.changedSince(version);
  }

  get(name: string): NodeInfo | undefined {
    return this.index.byName.get(name);
  }

  imageNodeCount(image: string): number {
    return this.index.imageNodeCount(image);
  }

  /** Nodes with at least one pod carrying affinity or anti-affinity of any kind. */
  nodesWithAffinityPods(): NodeInfo[] {
    return (this.affinityNodes ??= this.affinityLists?.().affinity ?? this.nodeInfos.filter((n) => n.podsWithAffinity.length > 0));
  }

  /** Nodes with at least one pod carrying required anti-affinity. */
  nodesWithRequiredAntiAffinityPods(): NodeInfo[] {
    return (this.antiAffinityNodes ??=
      this.affinityLists?.().antiAffinity ?? this.nodeInfos.filter((n) => n.podsWithRequiredAntiAffinity.length > 0));
  }

  /** The same cluster with `replacement` standing in for the node of the same name. */
  replacing(replacement: NodeInfo): Snapshot {
    return new Snapshot(
      this.nodeInfos.map((n) => (n.name === replacement.name ? replacement : n)),
      undefined,
      undefined,
      undefined,
      this.objects,
    );
  }
}
