// The pod strategy's admission: DefaultTolerationSeconds on create, on by default.
import { scheme, type KubeObject, type Pod } from '@keel/api';
import { describe, expect, it } from 'vitest';
import { defaultStrategies } from './strategies';

const pods = scheme.lookup('pods')!;
const pod = (): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'i' }] } });
const create = (strategies: ReturnType<typeof defaultStrategies>, obj: Pod) => {
  strategies(pods).prepareForCreate?.(obj as KubeObject, { now: new Date(0) });
  return obj;
};

describe('pod strategy: DefaultTolerationSeconds', () => {
  it('adds 300 s tolerations of not-ready and unreachable nodes by default', () => {
    expect(create(defaultStrategies(), pod()).spec!.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
  });

  it('uses the configured seconds, and can be turned off', () => {
    const tuned = create(defaultStrategies({ defaultTolerationSeconds: { notReadySeconds: 10, unreachableSeconds: 0 } }), pod());
    expect(tuned.spec!.tolerations!.map((t) => t.tolerationSeconds)).toEqual([10, 0]);
    expect(create(defaultStrategies({ defaultTolerationSeconds: false }), pod()).spec!.tolerations).toBeUndefined();
  });
});
