import type { Node } from '@keel/api';
import { describe, expect, it } from 'vitest';
import { podRoutesFor, PodRouteSync } from './pod-routes';

const node = (name: string, ip: string | undefined, cidr: string | undefined): Node => ({
  metadata: { name },
  spec: cidr ? { podCIDR: cidr } : {},
  status: ip ? { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] } : {},
});

describe('routes to other nodes\' pods', () => {
  it('routes every other node with a pod CIDR through its InternalIP', () => {
    const nodes = [node('c', '10.242.0.13', '10.246.2.0/24'), node('a', '10.242.0.11', '10.246.0.0/24'), node('b', '10.242.0.12', '10.246.1.0/24')];
    expect(podRoutesFor(nodes, { name: 'a', ip: '10.242.0.11' })).toEqual([
      { cidr: '10.246.1.0/24', via: '10.242.0.12' },
      { cidr: '10.246.2.0/24', via: '10.242.0.13' },
    ]);
  });

  it('skips nodes without a pod CIDR or address, on loopback, or sharing this node\'s IP', () => {
    const nodes = [node('b', undefined, '10.246.1.0/24'), node('c', '10.242.0.13', undefined), node('d', '127.0.0.1', '10.246.3.0/24'), node('e', '10.242.0.11', '10.246.4.0/24')];
    expect(podRoutesFor(nodes, { name: 'a', ip: '10.242.0.11' })).toEqual([]);
  });

  it('applies the latest wanted set once, and retries after a failure', async () => {
    const calls: string[] = [];
    let fail = true;
    const sync = new PodRouteSync({
      retryMs: 20,
      apply: async (routes) => {
        calls.push(routes.map((r) => r.cidr).join(','));
        if (fail) {
          fail = false;
          throw new Error('not reachable yet');
        }
        return { added: [...routes], removed: [] };
      },
    });
    sync.set([{ cidr: '10.246.1.0/24', via: '10.242.0.12' }]);
    await new Promise((r) => setTimeout(r, 100));
    sync.set([{ cidr: '10.246.1.0/24', via: '10.242.0.12' }]);
    await new Promise((r) => setTimeout(r, 20));
    sync.stop();
    expect(calls).toEqual(['10.246.1.0/24', '10.246.1.0/24']);
  });
});
