import { describe, expect, it } from 'vitest';
import { addDefaultTolerations, TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE } from './default-tolerations';
import type { Pod, Toleration } from './types/core';

const pod = (tolerations?: Toleration[]): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p' },
  spec: { containers: [{ name: 'c', image: 'i' }], ...(tolerations ? { tolerations } : {}) },
});
const seconds = { notReadySeconds: 300, unreachableSeconds: 120 };
const notReady = { key: TAINT_NODE_NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 } as const;
const unreachable = { key: TAINT_NODE_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 120 } as const;

describe('addDefaultTolerations', () => {
  it('adds both, after what the pod has, with the configured seconds', () => {
    const p = pod([{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }]);
    addDefaultTolerations(p, seconds);
    expect(p.spec!.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }, notReady, unreachable]);
    const bare = pod();
    addDefaultTolerations(bare, seconds);
    expect(bare.spec!.tolerations).toEqual([notReady, unreachable]);
  });

  it('leaves a taint the pod already tolerates: same key, any key, any effect', () => {
    const own = pod([{ key: TAINT_NODE_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 6000 }]);
    addDefaultTolerations(own, seconds);
    expect(own.spec!.tolerations).toEqual([{ key: TAINT_NODE_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 6000 }, notReady]);

    const forever = pod([{ key: TAINT_NODE_NOT_READY, operator: 'Exists' }]);
    addDefaultTolerations(forever, seconds);
    expect(forever.spec!.tolerations).toEqual([{ key: TAINT_NODE_NOT_READY, operator: 'Exists' }, unreachable]);

    const everything = pod([{ operator: 'Exists' }]);
    addDefaultTolerations(everything, seconds);
    expect(everything.spec!.tolerations).toEqual([{ operator: 'Exists' }]);
  });

  it('adds them when the pod tolerates only another effect of the same key', () => {
    const p = pod([{ key: TAINT_NODE_NOT_READY, operator: 'Exists', effect: 'NoSchedule' }]);
    addDefaultTolerations(p, seconds);
    expect(p.spec!.tolerations).toEqual([{ key: TAINT_NODE_NOT_READY, operator: 'Exists', effect: 'NoSchedule' }, notReady, unreachable]);
  });
});
