// The scheduling queue, after kube-scheduler's PriorityQueue: activeQ (highest priority
// first, then earliest arrival) holds pods ready to try; backoffQ holds pods that failed and
// wait out an exponential per-pod back-off (1 s doubling to 10 s); the unschedulable pool
// holds pods no node fits until a cluster event one of their rejecting plugins cares about
// (node added, pod deleted, ...) moves them back, or they have waited five minutes. The
// clock is injected, so tests step time by hand.

import type { Pod } from '@keel/api';
import type { ClusterEvent } from '../framework/interfaces';
import { newPodInfo, podKey, type PodInfo } from '../framework/pod-info';
import { KeyedHeap } from './heap';

export interface QueuedPod {
  info: PodInfo;
  /** When the pod was (re)queued: the activeQ tie-breaker and the back-off start. */
  timestamp: number;
  /** When the pod first entered the queue (the start of its end-to-end scheduling time). */
  firstQueued: number;
  attempts: number;
  /** Plugins that rejected it on its last attempt. */
  unschedulablePlugins: Set<string>;
}

export interface QueueOptions {
  now: () => number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Pods left unschedulable this long are retried anyway. */
  unschedulableTimeoutMs?: number;
  /** Plugins whose rejections the event may undo. */
  pluginsInterestedIn?: (event: ClusterEvent) => ReadonlySet<string>;
}

export class SchedulingQueue {
  private readonly active = new KeyedHeap<QueuedPod>(
    (q) => q.info.key,
    (a, b) => (a.info.priority !== b.info.priority ? a.info.priority > b.info.priority : a.timestamp < b.timestamp),
  );
  private readonly backoff = new KeyedHeap<QueuedPod>(
    (q) => q.info.key,
    (a, b) => this.backoffExpiry(a) < this.backoffExpiry(b),
  );
  private readonly unschedulable = new Map<string, QueuedPod>();
  /** Pods popped and being scheduled, so an update can find them. */
  private readonly inFlight = new Map<string, QueuedPod>();
  private schedulingCycle = 0;
  /** The cycle in which the last move event happened. */
  private moveRequestCycle = -1;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly unschedulableTimeoutMs: number;
  /** Called when a pod becomes poppable, so a waiting loop can wake. */
  onActive?: () => void;

  constructor(private readonly opts: QueueOptions) {
    this.initialBackoffMs = opts.initialBackoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.unschedulableTimeoutMs = opts.unschedulableTimeoutMs ?? 5 * 60_000;
  }

  /** A new pending pod. */
  add(pod: Pod | PodInfo): void {
    const info = 'key' in pod && 'requests' in pod ? pod : newPodInfo(pod as Pod);
    const key = info.key;
    this.unschedulable.delete(key);
    this.backoff.delete(key);
    const now = this.opts.now();
    this.active.push({ info, timestamp: now, firstQueued: now, attempts: 0, unschedulablePlugins: new Set() });
    this.onActive?.();
  }

  /** The pod changed: an unschedulable one gets another try, since the change may help. */
  update(pod: Pod): void {
    const key = podKey(pod);
    const info = newPodInfo(pod);
    const queued = this.active.get(key) ?? this.backoff.get(key) ?? this.unschedulable.get(key) ?? this.inFlight.get(key);
    if (!queued) return this.add(info);
    const before = queued.info.pod;
    queued.info = info;
    if (this.active.has(key)) this.active.push(queued);
    else if (this.backoff.has(key)) this.backoff.push(queued);
    else if (this.unschedulable.has(key) && changedForScheduling(before, pod)) {
      this.unschedulable.delete(key);
      this.requeue(queued);
    }
  }

  delete(key: string): void {
    this.active.delete(key);
    this.backoff.delete(key);
    this.unschedulable.delete(key);
    this.inFlight.delete(key);
  }

  /** The next pod to try, highest priority first; undefined when activeQ is empty. */
  pop(): QueuedPod | undefined {
    const q = this.active.pop();
    if (!q) return undefined;
    q.attempts++;
    this.schedulingCycle++;
    this.inFlight.set(q.info.key, q);
    return q;
  }

  /** The cycle number of the pod just popped, to pass back to addUnschedulable. */
  get cycle(): number {
    return this.schedulingCycle;
  }

  /** Done with a popped pod (bound, or handed to one of the add* methods). */
  done(key: string): void {
    this.inFlight.delete(key);
  }

  /**
   * A popped pod that fits nowhere. If a move event came while it was being tried, that
   * event may already have made room, so it only backs off instead of waiting for another.
   */
  addUnschedulable(q: QueuedPod, podCycle: number, plugins: Iterable<string>): void {
    if (!this.inFlight.has(q.info.key)) return; // deleted meanwhile
    this.inFlight.delete(q.info.key);
    q.unschedulablePlugins = new Set(plugins);
    q.timestamp = this.opts.now();
    if (this.moveRequestCycle >= podCycle) this.backoff.push(q);
    else this.unschedulable.set(q.info.key, q);
  }

  /** A popped pod that hit an error (binding failed): retry after its back-off. */
  addBackoff(q: QueuedPod): void {
    if (!this.inFlight.has(q.info.key)) return;
    this.inFlight.delete(q.info.key);
    q.timestamp = this.opts.now();
    this.backoff.push(q);
  }

  /** A cluster change: unschedulable pods it could help go back to activeQ (or backoffQ). */
  moveAllOnEvent(event: ClusterEvent): void {
    const interested = this.opts.pluginsInterestedIn?.(event);
    for (const [key, q] of this.unschedulable) {
      const helps = !interested || q.unschedulablePlugins.size === 0 || [...q.unschedulablePlugins].some((p) => interested.has(p));
      if (!helps) continue;
      this.unschedulable.delete(key);
      this.requeue(q);
    }
    this.moveRequestCycle = this.schedulingCycle;
  }

  /** Moves pods whose back-off ended, and stale unschedulable ones; call on a timer. */
  flush(): void {
    const now = this.opts.now();
    let moved = false;
    for (let top = this.backoff.peek(); top && this.backoffExpiry(top) <= now; top = this.backoff.peek()) {
      this.active.push(this.backoff.pop()!);
      moved = true;
    }
    for (const [key, q] of this.unschedulable) {
      if (now - q.timestamp >= this.unschedulableTimeoutMs) {
        this.unschedulable.delete(key);
        this.requeue(q);
      }
    }
    if (moved) this.onActive?.();
  }

  /** When the earliest back-off ends (for the loop's timer), if any pod is backing off. */
  nextBackoffExpiry(): number | undefined {
    const top = this.backoff.peek();
    return top ? this.backoffExpiry(top) : undefined;
  }

  backoffDurationMs(attempts: number): number {
    let d = this.initialBackoffMs;
    for (let i = 1; i < attempts && d < this.maxBackoffMs; i++) d *= 2;
    return Math.min(d, this.maxBackoffMs);
  }

  lengths(): { active: number; backoff: number; unschedulable: number } {
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.unschedulable.size };
  }

  /** Where a pod is, for tests and metrics. */
  where(key: string): 'active' | 'backoff' | 'unschedulable' | 'inFlight' | undefined {
    if (this.active.has(key)) return 'active';
    if (this.backoff.has(key)) return 'backoff';
    if (this.unschedulable.has(key)) return 'unschedulable';
    if (this.inFlight.has(key)) return 'inFlight';
    return undefined;
  }

  private backoffExpiry(q: QueuedPod): number {
    return q.timestamp + this.backoffDurationMs(q.attempts);
  }

  private requeue(q: QueuedPod): void {
    if (this.backoffExpiry(q) > this.opts.now()) this.backoff.push(q);
    else {
      this.active.push(q);
      this.onActive?.();
    }
  }
}

/**
 * Whether an update could change the decision. Our own status writes (the PodScheduled
 * condition) come back as updates too; retrying on them would loop.
 */
function changedForScheduling(before: Pod, after: Pod): boolean {
  return (
    JSON.stringify(before.spec) !== JSON.stringify(after.spec) ||
    JSON.stringify(before.metadata.labels ?? {}) !== JSON.stringify(after.metadata.labels ?? {})
  );
}
