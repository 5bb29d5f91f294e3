// The scheduling framework's extension points, after kube-scheduler's: PreFilter (compute
// per-pod state once), Filter (one node: can the pod go here?), PreScore and Score (how good
// is each feasible node, 0..100 after normalizing). A plugin implements the points it needs;
// the registry (../plugins/registry.ts) lists them all by name.

import type { NodeInfo } from './node-info';
import type { PodInfo } from './pod-info';
import type { Snapshot } from './snapshot';
import type { Status } from './status';

export const MaxNodeScore = 100;

/** State one scheduling cycle shares between a plugin's extension points. */
export class CycleState {
  private readonly data = new Map<string, unknown>();
  read<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  write(key: string, value: unknown): void {
    this.data.set(key, value);
  }
}

/** Cluster changes that may make a rejected pod schedulable. */
export type ClusterEvent = 'NodeAdd' | 'NodeUpdate' | 'PodDelete' | 'AssignedPodAdd' | 'AssignedPodUpdate';

export interface Plugin {
  readonly name: string;
  /** Which cluster changes could undo this plugin's rejections (the queue retries on them). */
  readonly events?: readonly ClusterEvent[];
}

export interface PreFilterPlugin extends Plugin {
  /** May answer Skip (nothing to check), or reject the pod everywhere. */
  preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): Status;
}

export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status;
}

export interface PreScorePlugin extends Plugin {
  /** Skip means the plugin's Score is not called for this pod. */
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], snapshot: Snapshot): Status;
}

export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number;
  /** Rescales raw scores in place to 0..MaxNodeScore; absent when score already is. */
  normalizeScores?(state: CycleState, pod: PodInfo, scores: number[]): void;
}

export type AnyPlugin = Partial<PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin> & Plugin;

export function isFilter(p: AnyPlugin): p is AnyPlugin & FilterPlugin {
  return typeof p.filter === 'function';
}
export function isPreFilter(p: AnyPlugin): p is AnyPlugin & PreFilterPlugin {
  return typeof p.preFilter === 'function';
}
export function isPreScore(p: AnyPlugin): p is AnyPlugin & PreScorePlugin {
  return typeof p.preScore === 'function';
}
export function isScore(p: AnyPlugin): p is AnyPlugin & ScorePlugin {
  return typeof p.score === 'function';
}

/** Scales scores so the largest becomes MaxNodeScore (reverse: the smallest does). */
export function defaultNormalize(scores: number[], reverse: boolean): void {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  for (let i = 0; i < scores.length; i++) {
    if (max === 0) scores[i] = reverse ? MaxNodeScore : 0;
    else {
      const v = Math.floor((MaxNodeScore * scores[i]!) / max);
      scores[i] = reverse ? MaxNodeScore - v : v;
    }
  }
}

