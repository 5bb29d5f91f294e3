import type { Event, Pod } from '@keel/api';
import { describe, expect, it } from 'vitest';
import { Client } from './client';
import { FakeClock } from './clock';
import { FakeApi } from './fake';
import { EventRecorder } from './events';

const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop', uid: 'u-1', resourceVersion: '7' }, spec: { containers: [] } };

function setup(maxCached?: number) {
  const api = new FakeApi();
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 12, 0, 0));
  const client = new Client(api);
  const errors: unknown[] = [];
  const recorder = new EventRecorder({ client, component: 'keel-scheduler', host: 'node-a', clock, ...(maxCached ? { maxCached } : {}), onError: (e) => errors.push(e) });
  const events = async () => (await client.events('shop').list()).items as Event[];
  return { api, clock, client, recorder, events, errors };
}

describe('EventRecorder', () => {
  it('writes an Event about the object, in its namespace', async () => {
    const { recorder, events } = setup();
    recorder.event(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available: 3 Insufficient cpu.');
    await recorder.flush();
    const [e] = await events();
    expect(e).toMatchObject({
      involvedObject: { kind: 'Pod', apiVersion: 'v1', name: 'web-1', namespace: 'shop', uid: 'u-1' },
      type: 'Warning',
      reason: 'FailedScheduling',
      source: { component: 'keel-scheduler', host: 'node-a' },
      count: 1,
      firstTimestamp: '2026-01-01T12:00:00Z',
      lastTimestamp: '2026-01-01T12:00:00Z',
    });
    expect(e!.metadata.name).toMatch(/^web-1\.[0-9a-f]+$/);
  });

  it('aggregates repeats into one Event with a count and the last timestamp', async () => {
    const { recorder, events, clock } = setup();
    recorder.event(pod, 'Warning', 'FailedScheduling', 'no nodes');
    await clock.advance(5_000);
    recorder.event(pod, 'Warning', 'FailedScheduling', 'no nodes');
    await clock.advance(5_000);
    recorder.event(pod, 'Warning', 'FailedScheduling', 'no nodes');
    recorder.event(pod, 'Normal', 'Scheduled', 'assigned shop/web-1 to node-1');
    await recorder.flush();
    const list = await events();
    expect(list).toHaveLength(2);
    const failed = list.find((e) => e.reason === 'FailedScheduling')!;
    expect(failed).toMatchObject({ count: 3, firstTimestamp: '2026-01-01T12:00:00Z', lastTimestamp: '2026-01-01T12:00:10Z' });
    expect(list.find((e) => e.reason === 'Scheduled')?.count).toBe(1);
  });

  it('writes a repeat afresh, keeping the count, when the Event is gone', async () => {
    const { recorder, events, client } = setup();
    recorder.event(pod, 'Normal', 'Pulled', 'image pulled');
    await recorder.flush();
    await client.events('shop').deleteCollection();
    recorder.event(pod, 'Normal', 'Pulled', 'image pulled');
    await recorder.flush();
    const list = await events();
    expect(list).toHaveLength(1);
    expect(list[0]!.count).toBe(2);
  });

  it('never throws: a failed write is reported and later events still go out', async () => {
    const { recorder, events, api, errors } = setup();
    api.failNext('create');
    recorder.event(pod, 'Normal', 'A', 'first');
    recorder.event(pod, 'Normal', 'B', 'second');
    await recorder.flush();
    expect(errors).toHaveLength(1);
    expect((await events()).map((e) => e.reason)).toEqual(['B']);
  });

  it('puts events about cluster-scoped objects in default', async () => {
    const { recorder, client } = setup();
    recorder.event({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', uid: 'n' } }, 'Normal', 'NodeReady', 'ready');
    await recorder.flush();
    expect((await client.events('default').list()).items).toHaveLength(1);
  });
});
