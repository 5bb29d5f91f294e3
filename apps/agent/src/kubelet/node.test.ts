import { describe, expect, it } from 'vitest';
import { nodeStatus, type MachineInfo } from './node';

const machine: MachineInfo = {
  cpus: 2,
  memoryBytes: 4 * 1024 ** 3,
  freeMemoryBytes: 2 * 1024 ** 3,
  diskBytes: 100 * 1024 ** 3,
  diskFreeBytes: 50 * 1024 ** 3,
  kernelVersion: '6.1.0',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  architecture: 'amd64',
  machineID: 'm',
  bootID: 'b',
};
const o = { nodeName: 'n1', nodeIP: '10.0.0.1', maxPods: 110, port: 10250, runtimeVersion: 'containerd://1.6.20', runtimeReady: true, networkReady: true, runtimeMessage: '' };
const T0 = Date.parse('2026-01-01T00:00:00Z');

describe('node status', () => {
  it('reports capacity, allocatable, addresses, node info and the five conditions', () => {
    const s = nodeStatus(undefined, machine, o, T0);
    expect(s.capacity).toEqual({ cpu: '2', memory: '4194304Ki', pods: '110', 'ephemeral-storage': '104857600Ki' });
    expect(s.allocatable!['memory']).toBe('4091904Ki');
    expect(s.addresses).toEqual([
      { type: 'InternalIP', address: '10.0.0.1' },
      { type: 'Hostname', address: 'n1' },
    ]);
    expect(s.nodeInfo).toMatchObject({ containerRuntimeVersion: 'containerd://1.6.20', kubeletVersion: 'v1.33.0-keel', operatingSystem: 'linux', architecture: 'amd64' });
    expect(s.conditions!.map((c) => `${c.type}=${c.status}:${c.reason}`)).toEqual([
      'MemoryPressure=False:KubeletHasSufficientMemory',
      'DiskPressure=False:KubeletHasNoDiskPressure',
      'PIDPressure=False:KubeletHasSufficientPID',
      'NetworkUnavailable=False:CNIReady',
      'Ready=True:KubeletReady',
    ]);
  });

  it('is not Ready while the runtime is down; heartbeats move, transitions stay', () => {
    const first = nodeStatus(undefined, machine, o, T0);
    const down = nodeStatus(first, machine, { ...o, runtimeReady: false, runtimeMessage: 'container runtime is down' }, T0 + 10_000);
    const ready = down.conditions!.find((c) => c.type === 'Ready')!;
    expect(ready).toMatchObject({ status: 'False', reason: 'KubeletNotReady', message: 'container runtime is down', lastTransitionTime: '2026-01-01T00:00:10Z' });
    const mem = down.conditions!.find((c) => c.type === 'MemoryPressure')!;
    expect(mem).toMatchObject({ lastTransitionTime: '2026-01-01T00:00:00Z', lastHeartbeatTime: '2026-01-01T00:00:10Z' });
  });
});
