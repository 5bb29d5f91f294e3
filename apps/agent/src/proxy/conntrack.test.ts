import { describe, expect, it } from 'vitest';
import { staleConntrackDeletions } from './conntrack';
import { service, slice } from './fixtures';
import { programmedPorts } from './rules';

const dns = (type: 'ClusterIP' | 'NodePort' = 'ClusterIP') =>
  service('dns', '10.96.0.53', [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353, nodePort: 30053 }], { type });
const web = service('web', '10.96.0.10', [{ name: 'http', port: 80, targetPort: 8080 }]);
const ports = (svcs: ReturnType<typeof dns>[], dnsIps: string[], webIps: string[] = []) =>
  programmedPorts(svcs, [slice('dns', dnsIps, [{ name: 'dns', port: 5353, protocol: 'UDP' }]), slice('web', webIps, [{ name: 'http', port: 8080 }])]);

describe('staleConntrackDeletions', () => {
  it('a removed UDP endpoint: its NAT entries from the cluster IP and the node port', () => {
    expect(staleConntrackDeletions(ports([dns('NodePort')], ['10.244.0.2', '10.244.0.3']), ports([dns('NodePort')], ['10.244.0.3']))).toEqual([
      ['-p', 'udp', '--orig-dst', '10.96.0.53', '--dst-nat', '10.244.0.2'],
      ['-p', 'udp', '--orig-port-dst', '30053', '--dst-nat', '10.244.0.2'],
    ]);
  });

  it('a deleted UDP service: entries to each of its endpoints', () => {
    expect(staleConntrackDeletions(ports([dns()], ['10.244.0.2']), ports([], []))).toEqual([['-p', 'udp', '--orig-dst', '10.96.0.53', '--dst-nat', '10.244.0.2']]);
  });

  it('a UDP service that was rejecting and now has an endpoint: every entry to its cluster IP', () => {
    expect(staleConntrackDeletions(ports([dns()], []), ports([dns()], ['10.244.0.2']))).toEqual([['-p', 'udp', '--orig-dst', '10.96.0.53']]);
  });

  it('TCP changes, unchanged UDP endpoints and the first sync delete nothing', () => {
    expect(staleConntrackDeletions(ports([web as never], [], ['10.244.0.2', '10.244.0.3']), ports([web as never], [], ['10.244.0.3']))).toEqual([]);
    expect(staleConntrackDeletions(ports([dns()], ['10.244.0.2']), ports([dns()], ['10.244.0.2']))).toEqual([]);
    expect(staleConntrackDeletions([], ports([dns()], ['10.244.0.2']))).toEqual([]);
  });
});
