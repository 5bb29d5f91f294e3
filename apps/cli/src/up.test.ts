import { describe, expect, it } from 'vitest';
import { CLUSTER_COMMANDS, formatReport, upReport, type UpProbes } from './up';

const probes = (over: Partial<UpProbes> = {}): UpProbes => ({
  which: (b) => `/usr/bin/${b}`,
  registryImages: async () => ({ images: ['keel/pause:3.9', 'keel/web:1.0', 'keel/busybox:1.35'] }),
  builtCommands: () => ['keel'],
  ...over,
});

describe('keel up report', () => {
  it('says which cluster parts are not built yet', async () => {
    const report = await upReport(probes(), '127.0.0.1:5000');
    expect(report.filter((r) => r.state === 'not-built').map((r) => r.part)).toEqual([...CLUSTER_COMMANDS]);
    expect(report.find((r) => r.part === 'registry')).toMatchObject({ state: 'ready' });
    expect(formatReport(report)).toContain('not built yet: keel-store, keel-apiserver');
  });

  it('names a missing binary and an unreachable registry', async () => {
    const report = await upReport(
      probes({
        which: (b) => (b === 'skopeo' ? undefined : `/usr/bin/${b}`),
        registryImages: async () => ({ error: 'connection refused' }),
      }),
      '127.0.0.1:5000',
    );
    expect(report.find((r) => r.part === 'skopeo')).toMatchObject({ state: 'missing' });
    expect(report.find((r) => r.part === 'registry')).toMatchObject({ state: 'missing', detail: '127.0.0.1:5000: connection refused' });
    expect(formatReport(report)).toContain('missing: skopeo, registry');
  });

  it('names images the registry lacks', async () => {
    const report = await upReport(probes({ registryImages: async () => ({ images: ['keel/pause:3.9'] }) }), 'r:1');
    expect(report.find((r) => r.part === 'registry')?.detail).toBe('r:1 lacks keel/web:1.0');
  });

  it('marks built commands ready', async () => {
    const report = await upReport(probes({ builtCommands: () => ['keel', 'keel-store'] }), 'r:1');
    expect(report.find((r) => r.part === 'keel-store')).toMatchObject({ state: 'ready' });
  });
});
