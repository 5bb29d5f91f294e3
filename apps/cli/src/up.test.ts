import { describe, expect, it } from 'vitest';
import type { PartStatus } from './local/cluster';
import { formatReport, prerequisiteChecks, sampleAppNote, type UpProbes } from './up';

const probes = (over: Partial<UpProbes> = {}): UpProbes => ({
  which: (b) => `/usr/bin/${b}`,
  registryImages: async () => ({ images: ['keel/pause:3.9', 'keel/web:1.0', 'keel/busybox:1.35'] }),
  ...over,
});

const parts: PartStatus[] = [
  { part: 'keel-store', state: 'started', detail: 'pid 1' },
  { part: 'keel-apiserver', state: 'running', detail: 'pid 2' },
  { part: 'keel-controller-manager', state: 'not-built', detail: 'not built yet' },
  { part: 'keel-scheduler', state: 'not-built', detail: 'not built yet' },
  { part: 'keel-agent', state: 'failed', detail: 'boom' },
];

describe('keel up report', () => {
  it('is ready when every binary and image is there', async () => {
    const checks = await prerequisiteChecks(probes(), '127.0.0.1:5000');
    expect(checks.every((c) => c.state === 'ready')).toBe(true);
  });

  it('names a missing binary, an unreachable registry and absent images', async () => {
    const checks = await prerequisiteChecks(
      probes({ which: (b) => (b === 'skopeo' ? undefined : `/usr/bin/${b}`), registryImages: async () => ({ error: 'ECONNREFUSED' }) }),
      '127.0.0.1:5000',
    );
    expect(checks.find((c) => c.part === 'skopeo')).toMatchObject({ state: 'missing' });
    expect(checks.find((c) => c.part === 'registry')).toMatchObject({ state: 'missing', detail: '127.0.0.1:5000: ECONNREFUSED' });
    const lacking = await prerequisiteChecks(probes({ registryImages: async () => ({ images: ['keel/pause:3.9'] }) }), 'r:1');
    expect(lacking.find((c) => c.part === 'registry')?.detail).toBe('r:1 lacks keel/web:1.0');
  });

  it('lists parts not built and failed, and says what the sample app waits for', async () => {
    const text = formatReport(await prerequisiteChecks(probes(), 'r:1'), parts);
    expect(text).toContain('not built yet: keel-controller-manager, keel-scheduler.');
    expect(text).toContain('failed: keel-agent');
    expect(sampleAppNote(parts)).toBe(
      'its pods wait for keel-controller-manager, keel-scheduler, containerd, keel-agent: the Deployment is stored, but nothing creates, places or runs its pods until those run.',
    );
    const all = ['keel-controller-manager', 'keel-scheduler', 'containerd', 'keel-agent'].map((part) => ({ part, state: 'running', detail: '' })) as PartStatus[];
    expect(sampleAppNote(all)).toBeUndefined();
  });
});
