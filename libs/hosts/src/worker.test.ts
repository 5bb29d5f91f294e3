import { describe, expect, it } from 'vitest';
import { workerAgentFlags } from './worker';

describe("a worker node's agent flags", () => {
  const base = {
    nodeName: 'keel-mn-a',
    nodeIp: '10.242.0.11',
    criEndpoint: 'unix:///tmp/keel-mn-a/containerd.sock',
    rootDir: '/tmp/keel-mn-a/keel-agent',
    cniConf: '/tmp/keel-mn-a/cni/net.d/10-keel.conflist',
    cgroupParent: '/keel-mn-a',
    clusterCidr: '10.246.0.0/16',
    serviceCidr: '10.247.0.0/16',
    port: 10250,
  };

  it('make the host address the node IP and leave the pod CIDR to node IPAM unless given', () => {
    const flags = workerAgentFlags(base);
    const value = (flag: string) => flags[flags.indexOf(flag) + 1];
    expect(value('--node-ip')).toBe('10.242.0.11');
    expect(value('--cgroup-parent')).toBe('/keel-mn-a');
    expect(value('--pod-bridge')).toBe('keel-cni0');
    expect(value('--service-cidr')).toBe('10.247.0.0/16');
    expect(flags).not.toContain('--pod-cidr');
    expect(workerAgentFlags({ ...base, podCidr: '10.246.5.0/24' }).slice(-2)).toEqual(['--pod-cidr', '10.246.5.0/24']);
  });

  it('refuse a bad CIDR', () => {
    expect(() => workerAgentFlags({ ...base, serviceCidr: '10.247.0.1/16' })).toThrow(/host bits/);
  });
});
