// The scheduler's API port over @keel/client: bindings through pods/binding (guarded by the
// pod's uid, so a re-created pod of the same name is never bound by mistake), graceful
// deletes of preemption victims, the PodScheduled condition and nominatedNodeName as a
// strategic-merge patch of the status (conditions merge by type), and events through the
// client's recorder, which folds repeats into one Event with a count.

import type { Pod, PodCondition } from '@keel/api';
import type { Client, EventRecorder } from '@keel/client';
import type { SchedulerApi } from '../scheduler';

export class ClientSchedulerApi implements SchedulerApi {
  constructor(
    private readonly client: Client,
    private readonly events: EventRecorder,
    private readonly now: () => number,
  ) {}

  async bind(pod: Pod, node: string): Promise<void> {
    const ns = pod.metadata.namespace ?? 'default';
    await this.client.bind(ns, pod.metadata.name ?? '', node, { ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) });
  }

  async deletePod(pod: Pod): Promise<void> {
    // The pod's own grace period applies: a victim gets to shut down cleanly.
    await this.client.pods(pod.metadata.namespace ?? 'default').delete(pod.metadata.name ?? '', {
      ...(pod.metadata.uid ? { preconditions: { uid: pod.metadata.uid } } : {}),
    });
  }

  async updatePodStatus(pod: Pod, condition: PodCondition, nominatedNodeName?: string): Promise<void> {
    const previous = pod.status?.conditions?.find((c) => c.type === condition.type);
    const transition = previous && previous.status === condition.status ? previous.lastTransitionTime : new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const status: Record<string, unknown> = { conditions: [{ ...condition, lastProbeTime: null, ...(transition ? { lastTransitionTime: transition } : {}) }] };
    if (nominatedNodeName !== undefined) status['nominatedNodeName'] = nominatedNodeName;
    await this.client.pods(pod.metadata.namespace ?? 'default').patch(pod.metadata.name ?? '', 'strategic', { status }, { subresource: 'status' });
  }

  async recordEvent(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    this.events.event({ ...pod, apiVersion: 'v1', kind: 'Pod' }, type, reason, message);
  }
}
