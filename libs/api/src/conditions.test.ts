import { describe, expect, it } from 'vitest';
import { findCondition, isConditionTrue, removeCondition, setCondition } from './conditions';
import { isPodActive, isPodReady, isPodScheduled, isPodTerminal, objectKey, splitObjectKey } from './pods';
import type { NodeCondition, Pod } from './types';

const t0 = Date.UTC(2024, 0, 1, 0, 0, 0);
const t1 = t0 + 60_000;

describe('conditions', () => {
  it('moves lastTransitionTime only when the status changes', () => {
    const ready: NodeCondition = { type: 'Ready', status: 'True', reason: 'KubeletReady' };
    const first = setCondition<NodeCondition>(undefined, ready, t0);
    expect(first).toEqual([{ ...ready, lastTransitionTime: '2024-01-01T00:00:00Z' }]);
    const heartbeat = setCondition(first, { ...ready, lastHeartbeatTime: '2024-01-01T00:01:00Z' }, t1);
    expect(heartbeat[0]!.lastTransitionTime).toBe('2024-01-01T00:00:00Z');
    expect(heartbeat[0]!.lastHeartbeatTime).toBe('2024-01-01T00:01:00Z');
    const lost = setCondition(heartbeat, { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown' }, t1);
    expect(lost[0]).toMatchObject({ status: 'Unknown', lastTransitionTime: '2024-01-01T00:01:00Z' });
    const more = setCondition(lost, { type: 'MemoryPressure', status: 'False' }, t1);
    expect(more.map((c) => c.type)).toEqual(['Ready', 'MemoryPressure']);
    expect(findCondition(more, 'MemoryPressure')?.status).toBe('False');
    expect(isConditionTrue(more, 'Ready')).toBe(false);
    expect(removeCondition(more, 'Ready').map((c) => c.type)).toEqual(['MemoryPressure']);
  });
});

describe('pod questions and keys', () => {
  const pod = (status: Pod['status'], nodeName?: string, deleting = false): Pod => ({
    metadata: { name: 'p', namespace: 'ns', ...(deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
    spec: { containers: [], nodeName },
    status,
  });

  it('answers readiness, phase, scheduling and activity', () => {
    expect(isPodReady(pod({ conditions: [{ type: 'Ready', status: 'True' }] }))).toBe(true);
    expect(isPodReady(pod({ conditions: [{ type: 'Ready', status: 'False' }] }))).toBe(false);
    expect(isPodTerminal(pod({ phase: 'Failed' }))).toBe(true);
    expect(isPodScheduled(pod({}, 'node-1'))).toBe(true);
    expect(isPodActive(pod({ phase: 'Running' }))).toBe(true);
    expect(isPodActive(pod({ phase: 'Running' }, 'n', true))).toBe(false);
  });

  it('keys objects by namespace/name', () => {
    expect(objectKey({ metadata: { namespace: 'ns', name: 'p' } })).toBe('ns/p');
    expect(objectKey({ metadata: { name: 'node-1' } })).toBe('node-1');
    expect(splitObjectKey('ns/p')).toEqual({ namespace: 'ns', name: 'p' });
    expect(splitObjectKey('node-1')).toEqual({ name: 'node-1' });
    expect(() => splitObjectKey('a/b/c')).toThrow('unexpected key format: "a/b/c"');
  });
});
