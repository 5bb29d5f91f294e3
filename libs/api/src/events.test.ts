import { describe, expect, it } from 'vitest';
import { isSameEvent, newEvent, objectReference, repeatEvent } from './events';
import { validateCreate } from './validation';
import type { Pod } from './types';

const now = Date.UTC(2024, 0, 1, 0, 0, 0);
const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'prod', uid: 'u1', resourceVersion: '7' } };

describe('events', () => {
  it('records an event about an object, named like Kubernetes names them', () => {
    const event = newEvent(objectReference(pod), 'Normal', 'Scheduled', 'Successfully assigned prod/web-1 to node-1', { component: 'default-scheduler' }, now);
    expect(event.metadata).toEqual({ name: `web-1.${(BigInt(now) * 1_000_000n).toString(16)}`, namespace: 'prod' });
    expect(event.involvedObject).toEqual({ kind: 'Pod', namespace: 'prod', name: 'web-1', uid: 'u1', apiVersion: 'v1', resourceVersion: '7' });
    expect(event).toMatchObject({ count: 1, type: 'Normal', firstTimestamp: '2024-01-01T00:00:00Z', source: { component: 'default-scheduler' } });
    expect(validateCreate(event)).toEqual([]);
  });

  it('puts events about cluster-scoped objects in default, and folds repeats', () => {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', uid: 'n1' } };
    const first = newEvent(objectReference(node), 'Warning', 'NodeNotReady', 'Node is not ready', { component: 'node-controller' }, now);
    expect(first.metadata.namespace).toBe('default');
    const again = newEvent(objectReference(node), 'Warning', 'NodeNotReady', 'Node is not ready', { component: 'node-controller' }, now + 5000);
    expect(isSameEvent(first, again)).toBe(true);
    expect(isSameEvent(first, { ...again, reason: 'Other' })).toBe(false);
    expect(repeatEvent(first, now + 5000)).toMatchObject({ count: 2, lastTimestamp: '2024-01-01T00:00:05Z', firstTimestamp: '2024-01-01T00:00:00Z' });
  });
});
