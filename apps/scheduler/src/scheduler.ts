// The scheduler: informer events in (pods, nodes, PriorityClasses, and the Namespaces,
// Services and ReplicaSets some plugins read), decisions out through a
// small API port (bind, delete a victim, write status and events). One decision at a time,
// synchronously over the cache — pop, filter, score, assume — and the binding call runs in
// the background, as kube-scheduler's binding cycle does, so the next pod does not wait for
// the apiserver. Everything that takes time or chance (clock, random, the API) is injected.

import type { Namespace, Node, Pod, PodCondition, PriorityClass, ReplicaSet, Service } from '@keel/api';
import { fitErrorMessage } from './core/fit-error';
import { PodScheduler } from './core/schedule-pod';
import { SchedulerCache } from './framework/cache';
import type { SchedulerConfiguration } from './framework/config';
import { Framework } from './framework/framework';
import type { ClusterEvent } from './framework/interfaces';
import { newPodInfo, podKey, type PodInfo } from './framework/pod-info';
import { preempt } from './preemption/preemption';
import { Histogram } from './process/histogram';
import { PriorityResolver } from './priority';
import { registry } from './plugins/registry';
import { SchedulingQueue } from './queue/scheduling-queue';

/** What the scheduler asks of the apiserver. */
export interface SchedulerApi {
  bind(pod: Pod, node: string): Promise<void>;
  /** A graceful delete of a preemption victim. */
  deletePod(pod: Pod): Promise<void>;
  /** Sets the pod's PodScheduled condition, and status.nominatedNodeName when given. */
  updatePodStatus(pod: Pod, condition: PodCondition, nominatedNodeName?: string): Promise<void>;
  recordEvent(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export type Log = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface SchedulerOptions {
  api: SchedulerApi;
  config?: SchedulerConfiguration;
  now: () => number;
  random: () => number;
  log?: Log;
  /** Record a Normal "Scheduled" event per bound pod (Kubernetes does). */
  scheduledEvents?: boolean;
}

export interface SchedulerMetrics {
  scheduled: number;
  unschedulable: number;
  errors: number;
  preemptions: number;
  bindFailures: number;
  /** Sum and count of decision times (pop to assume), in ms. */
  decisionMsSum: number;
  attempts: number;
}

/** Kubernetes' scheduling latency histograms, with its names and buckets. */
export interface SchedulerLatencies {
  /** One attempt, pop to assume (or to the unschedulable verdict): scheduler_scheduling_attempt_duration_seconds. */
  attempt: { scheduled: Histogram; unschedulable: Histogram; error: Histogram };
  /** First queued to bound, over all attempts: scheduler_pod_scheduling_sli_duration_seconds. */
  podScheduling: Histogram;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export class Scheduler {
  readonly cache = new SchedulerCache();
  readonly framework: Framework;
  readonly queue: SchedulingQueue;
  readonly priorities = new PriorityResolver();
  readonly metrics: SchedulerMetrics = { scheduled: 0, unschedulable: 0, errors: 0, preemptions: 0, bindFailures: 0, decisionMsSum: 0, attempts: 0 };
  readonly latencies: SchedulerLatencies = {
    attempt: { scheduled: Histogram.exponential(0.001, 2, 15), unschedulable: Histogram.exponential(0.001, 2, 15), error: Histogram.exponential(0.001, 2, 15) },
    podScheduling: Histogram.exponential(0.01, 2, 20),
  };
  private readonly algorithm: PodScheduler;
  private readonly pendingBindings = new Set<Promise<void>>();
  /** Node → pods nominated there by preemption (key → pod), until they are bound or gone. */
  private readonly nominations = new Map<string, Map<string, PodInfo>>();
  private readonly nominatedNodeOf = new Map<string, string>();
  private readonly log: Log;

  constructor(private readonly opts: SchedulerOptions) {
    this.framework = new Framework(registry, opts.config);
    this.algorithm = new PodScheduler(this.framework, {
      random: opts.random,
      percentageOfNodesToScore: opts.config?.percentageOfNodesToScore ?? 0,
      nominated: {
        any: () => this.nominatedNodeOf.size > 0,
        on: (node) => {
          const m = this.nominations.get(node);
          return m && m.size > 0 ? [...m.values()] : undefined;
        },
      },
    });
    const interest = new Map<ClusterEvent, Set<string>>();
    this.queue = new SchedulingQueue({
      now: opts.now,
      pluginsInterestedIn: (e) => interest.get(e) ?? interest.set(e, this.framework.pluginsInterestedIn(e)).get(e)!,
    });
    this.log = opts.log ?? (() => undefined);
  }

  get schedulerName(): string {
    return this.framework.profile.schedulerName;
  }

  private responsibleFor(pod: Pod): boolean {
    return (pod.spec?.schedulerName ?? 'default-scheduler') === this.schedulerName;
  }

  onPodEvent(type: WatchEventType, pod: Pod): void {
    const key = podKey(pod);
    if (type === 'DELETED' || pod.spec?.nodeName) this.clearNomination(key);
    if (type === 'DELETED') {
      if (this.cache.hasPod(key)) {
        this.cache.removePod(pod);
        this.queue.moveAllOnEvent('PodDelete');
      }
      this.queue.delete(key);
      return;
    }
    if (pod.spec?.nodeName) {
      const isNew = !this.cache.hasPod(key);
      this.cache.addPod(pod);
      this.queue.delete(key);
      this.queue.moveAllOnEvent(isNew ? 'AssignedPodAdd' : 'AssignedPodUpdate');
      // A terminating bound pod frees nothing yet; its DELETE will.
      return;
    }
    if (pod.metadata.deletionTimestamp || !this.responsibleFor(pod)) return this.queue.delete(key);
    // Bound by us a moment ago; the informer has not seen the binding yet.
    if (this.cache.isAssumed(key)) return;
    const resolved = this.priorities.resolve(pod);
    if (type === 'ADDED' || !this.queue.where(key)) this.queue.add(newPodInfo(resolved));
    else this.queue.update(resolved);
  }

  onNodeEvent(type: WatchEventType, node: Node): void {
    if (type === 'DELETED') return this.cache.removeNode(node.metadata.name ?? '');
    this.cache.addNode(node);
    this.queue.moveAllOnEvent(type === 'ADDED' ? 'NodeAdd' : 'NodeUpdate');
  }

  /** Namespaces: their labels are what affinity terms' namespaceSelectors select. */
  onNamespaceEvent(type: WatchEventType, ns: Namespace): void {
    if (type === 'DELETED') this.cache.objects.deleteNamespace(ns.metadata.name ?? '');
    else this.cache.objects.setNamespace(ns);
  }

  /** Services and ReplicaSets: their selectors group pods for default topology spreading. */
  onServiceEvent(type: WatchEventType, svc: Service): void {
    if (type === 'DELETED') this.cache.objects.deleteService(svc.metadata.namespace ?? 'default', svc.metadata.name ?? '');
    else this.cache.objects.setService(svc);
  }

  onReplicaSetEvent(type: WatchEventType, rs: ReplicaSet): void {
    if (type === 'DELETED') this.cache.objects.deleteReplicaSet(rs.metadata.namespace ?? 'default', rs.metadata.name ?? '');
    else this.cache.objects.setReplicaSet(rs);
  }

  onPriorityClassEvent(type: WatchEventType, pc: PriorityClass): void {
    if (type === 'DELETED') this.priorities.delete(pc.metadata.name ?? '');
    else this.priorities.set(pc);
  }

  /** Tries the next pod; false when no pod is ready. Binding continues in the background. */
  scheduleOne(): boolean {
    const queued = this.queue.pop();
    if (!queued) return false;
    const cycle = this.queue.cycle;
    const info = queued.info;
    if (this.cache.hasPod(info.key)) {
      this.queue.done(info.key);
      return true;
    }
    const started = this.opts.now();
    const snapshot = this.cache.snapshot();
    const result = this.algorithm.schedule(info, snapshot);
    this.metrics.attempts++;
    if (!result.ok) {
      this.latencies.attempt[result.error ? 'error' : 'unschedulable'].observe((this.opts.now() - started) / 1000);
      if (result.error) {
        this.metrics.errors++;
        this.log('error', 'scheduling failed', { pod: info.key, error: result.error });
        this.queue.addBackoff(queued);
        return true;
      }
      const diagnosis = result.diagnosis;
      let nominated: string | undefined;
      const preemption = preempt(this.framework, info, snapshot, diagnosis);
      if (preemption.ok) {
        nominated = preemption.candidate.node;
        this.nominate(info, nominated);
        this.metrics.preemptions++;
        for (const victim of preemption.candidate.victims) {
          this.background(
            this.opts.api.recordEvent(victim.pod, 'Normal', 'Preempted', `Preempted by pod ${info.pod.metadata.uid ?? info.key} on node ${nominated}`).then(() =>
              this.opts.api.deletePod(victim.pod),
            ),
            'preempt',
          );
        }
      } else diagnosis.postFilterMessage = `preemption: ${preemption.message}`;
      const message = fitErrorMessage(result.numAllNodes, diagnosis);
      this.metrics.unschedulable++;
      this.queue.addUnschedulable(queued, cycle, diagnosis.unschedulablePlugins);
      this.log('info', 'unschedulable', { pod: info.key, message, ...(nominated ? { nominatedNode: nominated } : {}) });
      const condition: PodCondition = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message };
      this.background(this.opts.api.recordEvent(info.pod, 'Warning', 'FailedScheduling', message), 'event');
      // Kubernetes writes the condition only when it changes; a retry loop must not rewrite it.
      const current = info.pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
      const same = current?.status === 'False' && current.reason === condition.reason && current.message === message;
      if (!same || (nominated !== undefined && nominated !== info.pod.status?.nominatedNodeName)) {
        this.background(this.opts.api.updatePodStatus(info.pod, condition, nominated), 'status');
      }
      return true;
    }
    const node = result.node;
    this.clearNomination(info.key);
    this.cache.assumePod(info, node);
    this.metrics.decisionMsSum += this.opts.now() - started;
    this.latencies.attempt.scheduled.observe((this.opts.now() - started) / 1000);
    this.background(this.bind(queued, node), 'bind');
    return true;
  }

  private nominate(info: PodInfo, node: string): void {
    this.clearNomination(info.key);
    let m = this.nominations.get(node);
    if (!m) this.nominations.set(node, (m = new Map()));
    m.set(info.key, info);
    this.nominatedNodeOf.set(info.key, node);
  }

  private clearNomination(key: string): void {
    const node = this.nominatedNodeOf.get(key);
    if (node === undefined) return;
    this.nominatedNodeOf.delete(key);
    this.nominations.get(node)?.delete(key);
  }

  /** The node a pod is nominated to, if any (tests and metrics). */
  nominatedNode(key: string): string | undefined {
    return this.nominatedNodeOf.get(key);
  }

  private async bind(queued: ReturnType<SchedulingQueue['pop']> & object, node: string): Promise<void> {
    const pod = queued.info.pod;
    try {
      await this.opts.api.bind(pod, node);
    } catch (err) {
      this.metrics.bindFailures++;
      this.cache.forgetPod(queued.info.key);
      this.queue.addBackoff(queued);
      const message = `Binding rejected: ${err instanceof Error ? err.message : String(err)}`;
      this.log('warn', 'binding failed', { pod: queued.info.key, node, error: message });
      await this.opts.api.recordEvent(pod, 'Warning', 'FailedScheduling', message).catch(() => undefined);
      return;
    }
    this.queue.done(queued.info.key);
    this.metrics.scheduled++;
    this.latencies.podScheduling.observe((this.opts.now() - queued.firstQueued) / 1000);
    if (this.opts.scheduledEvents !== false) {
      const message = `Successfully assigned ${queued.info.key} to ${node}`;
      await this.opts.api.recordEvent(pod, 'Normal', 'Scheduled', message).catch(() => undefined);
    }
  }

  private background(p: Promise<void>, what: string): void {
    const tracked = p.catch((err: unknown) => this.log('warn', `${what} failed`, { error: err instanceof Error ? err.message : String(err) }));
    this.pendingBindings.add(tracked);
    void tracked.finally(() => this.pendingBindings.delete(tracked));
  }

  /** Resolves once every background call started so far has finished. */
  async settle(): Promise<void> {
    while (this.pendingBindings.size > 0) await Promise.all([...this.pendingBindings]);
  }

  /**
   * Schedules until `signal` aborts: pods as they become ready, yielding to the event loop
   * between decisions so informer events and binding answers are handled; back-offs are
   * flushed every second, as kube-scheduler does.
   */
  async run(signal: AbortSignal): Promise<void> {
    let wake: (() => void) | undefined;
    this.queue.onActive = () => wake?.();
    const flusher = setInterval(() => this.queue.flush(), 1000);
    const onAbort = () => wake?.();
    signal.addEventListener('abort', onAbort);
    try {
      while (!signal.aborted) {
        if (this.scheduleOne()) {
          await new Promise((r) => setImmediate(r));
          continue;
        }
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      clearInterval(flusher);
      signal.removeEventListener('abort', onAbort);
      this.queue.onActive = undefined;
    }
  }
}
