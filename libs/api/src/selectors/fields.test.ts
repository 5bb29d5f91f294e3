import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors';
import type { Event, Pod } from '../types';
import { compileFieldSelector, parseFieldSelector, selectableFields, supportedFieldSelectors } from './fields';

const pod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'default' },
  spec: { containers: [{ name: 'c', image: 'i' }], restartPolicy: 'Always' },
  status: { phase: 'Running', podIP: '10.0.0.5' },
};

describe('field selectors', () => {
  it.each([
    ['metadata.name=web-1', true],
    ['metadata.name==web-1', true],
    ['metadata.name!=web-1', false],
    ['metadata.namespace!=kube-system', true],
    ['spec.nodeName=', true],
    ['spec.nodeName!=', false],
    ['status.phase=Running', true],
    ['status.phase=Running,metadata.name=web-2', false],
    ['status.podIP=10.0.0.5', true],
    ['spec.hostNetwork=false', true],
    ['', true],
  ])('pods %j matches: %s', (selector, expected) => {
    expect(compileFieldSelector('pods', selector).matches(pod)).toBe(expected);
  });

  it('selects events by involved object, as kubectl describe asks', () => {
    const event: Event = {
      metadata: { name: 'e', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', uid: 'u-1' },
      reason: 'Scheduled',
      type: 'Normal',
      source: { component: 'default-scheduler' },
    };
    const { matches } = compileFieldSelector('events', 'involvedObject.uid=u-1,involvedObject.name=web-1,involvedObject.namespace=default');
    expect(matches(event)).toBe(true);
    expect(compileFieldSelector('events', 'source=default-scheduler,type=Warning').matches(event)).toBe(false);
  });

  it('answers 400 for a field the resource cannot select by', () => {
    try {
      compileFieldSelector('pods', 'spec.foo=bar');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).httpStatus).toBe(400);
      expect((err as ApiError).message).toBe('field label not supported: spec.foo');
    }
    expect(() => compileFieldSelector('configmaps', 'status.phase=x')).toThrow('field label not supported: status.phase');
    expect(() => compileFieldSelector('pods', 'nonsense')).toThrow("invalid selector: 'nonsense'; can't understand 'nonsense'");
  });

  it('handles escapes and prints them back', () => {
    const query = parseFieldSelector('metadata.name=a\\,b\\=c');
    expect(query.requirements).toEqual([{ field: 'metadata.name', operator: '=', value: 'a,b=c' }]);
    expect(query.toString()).toBe('metadata.name=a\\,b\\=c');
    expect(() => parseFieldSelector('metadata.name=a=b')).toThrow(/unescaped =/);
  });

  it('lists the supported fields per resource', () => {
    expect(supportedFieldSelectors('nodes')).toEqual(['metadata.name', 'metadata.namespace', 'spec.unschedulable']);
    expect(selectableFields('nodes', { metadata: { name: 'n1' } })).toEqual({ 'metadata.name': 'n1', 'metadata.namespace': '', 'spec.unschedulable': 'false' });
  });
});
