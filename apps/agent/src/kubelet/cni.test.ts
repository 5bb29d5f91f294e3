import { describe, expect, it } from 'vitest';
import { conflistSubnet, gatewayOf, withSubnet } from './cni';

const conflist = JSON.stringify({
  cniVersion: '1.0.0',
  name: 'keel-node',
  plugins: [
    { type: 'bridge', bridge: 'keel-cni0', ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.0.0/24', gateway: '10.244.0.1' }]], dataDir: '/x' } },
    { type: 'portmap', capabilities: { portMappings: true } },
  ],
});

describe('CNI conflist pod CIDR', () => {
  it('reads and replaces the bridge range, keeping the rest', () => {
    expect(conflistSubnet(conflist)).toBe('10.244.0.0/24');
    const next = withSubnet(conflist, '10.244.7.0/24');
    expect(conflistSubnet(next)).toBe('10.244.7.0/24');
    const parsed = JSON.parse(next);
    expect(parsed.plugins[0].ipam).toEqual({ type: 'host-local', ranges: [[{ subnet: '10.244.7.0/24', gateway: '10.244.7.1' }]], dataDir: '/x' });
    expect(parsed.plugins[1]).toEqual({ type: 'portmap', capabilities: { portMappings: true } });
    expect(gatewayOf('10.1.2.0/26')).toBe('10.1.2.1');
  });
});
