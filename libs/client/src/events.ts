// The event recorder: core/v1 Events about objects ("Scheduled", "FailedScheduling",
// "SuccessfulCreate"), as client-go's recorder writes them. A repeat of the same event
// (same object, type, reason, message and source) is not a new Event: the one already
// written gets count + 1 and a new lastTimestamp, so a controller retrying in a loop
// leaves one line in `kubectl get events`, not thousands. Recording never blocks or
// throws: writes go out in order in the background; flush() waits for them.
import { ApiError, type Event, type KubeObject, type ObjectReference } from '@keel/api';
import type { Client } from './client';
import { systemClock, type Clock } from './clock';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  client: Client;
  /** The component writing, e.g. `keel-scheduler` (source.component). */
  component: string;
  /** The host or instance (source.host). */
  host?: string;
  clock?: Clock;
  /** How many distinct events to remember for aggregation. Default 4096. */
  maxCached?: number;
  onError?: (err: unknown) => void;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
}

/** Kubernetes Time: RFC 3339 in UTC, to the second. */
function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class EventRecorder {
  private readonly clock: Clock;
  /** Insertion-ordered, so the oldest entry is the first to go. */
  private readonly seen = new Map<string, Seen>();
  private chain: Promise<void> = Promise.resolve();
  private seq = 0;

  constructor(private readonly opts: EventRecorderOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Records an event about `object`; returns at once. */
  event(object: KubeObject, type: EventType, reason: string, message: string): void {
    const involved: ObjectReference = {
      kind: object.kind,
      apiVersion: object.apiVersion,
      name: object.metadata.name,
      uid: object.metadata.uid,
      resourceVersion: object.metadata.resourceVersion,
      ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
    };
    const now = this.clock.now();
    this.chain = this.chain.then(() => this.write(involved, type, reason, message, now)).catch((err: unknown) => this.opts.onError?.(err));
  }

  /** Waits until every recorded event is written (or failed). */
  flush(): Promise<void> {
    return this.chain;
  }

  private async write(involved: ObjectReference, type: EventType, reason: string, message: string, now: number): Promise<void> {
    const { component, host } = this.opts;
    const key = JSON.stringify([component, host ?? '', involved.apiVersion, involved.kind, involved.namespace ?? '', involved.name, involved.uid ?? '', type, reason, message]);
    const events = this.opts.client.events();
    const prior = this.seen.get(key);
    const lastTimestamp = formatTime(now);
    if (prior) {
      prior.count++;
      // Most recently used goes to the back.
      this.seen.delete(key);
      this.seen.set(key, prior);
      try {
        await events.namespace(prior.namespace).patch(prior.name, 'merge', { count: prior.count, lastTimestamp });
        return;
      } catch (err) {
        // The Event expired (or was deleted): write it afresh below, keeping the count.
        if (!(err instanceof ApiError && err.reason === 'NotFound')) throw err;
      }
    }
    const namespace = involved.namespace ?? 'default';
    // Unique per recorder and moment, as client-go's `<object>.<unix nanos in hex>`.
    const name = `${involved.name}.${(BigInt(now) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16)}`;
    const entry: Seen = prior ?? { name, namespace, count: 1, firstTimestamp: lastTimestamp };
    entry.name = name;
    const event: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: involved,
      reason,
      message,
      type,
      source: { component, ...(host ? { host } : {}) },
      firstTimestamp: entry.firstTimestamp,
      lastTimestamp,
      count: entry.count,
      reportingComponent: component,
      reportingInstance: host ?? '',
    };
    await events.namespace(namespace).create(event);
    this.seen.set(key, entry);
    const max = this.opts.maxCached ?? 4096;
    while (this.seen.size > max) this.seen.delete(this.seen.keys().next().value!);
  }
}
