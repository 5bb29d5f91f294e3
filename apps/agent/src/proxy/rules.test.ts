import { describe, expect, it } from 'vitest';
import type { EndpointSlice, Service } from '@keel/api';
import { service, slice } from './fixtures';
import { endpointsToSlices } from './model';
import { endpointChain, serviceChain } from './names';
import { computeRules, RuleCache, type RuleConfig } from './rules';

const config: RuleConfig = { nodeIps: ['192.168.77.1'], masqueradeOut: ['keel-cni0'] };
const web = (n: number) => ['10.244.1.2', '10.244.1.3', '10.244.1.4', '10.244.1.5'].slice(0, n);
const SVC = serviceChain('default/web:http', 'TCP');
const sep = (ip: string, port = 8080, proto = 'TCP', key = 'default/web:http') => endpointChain(key, proto, `${ip}:${port}`);

interface Case {
  name: string;
  services: Service[];
  slices: EndpointSlice[];
  config?: RuleConfig;
  /** Exact lines of these chains. */
  nat?: Record<string, string[]>;
  filter?: Record<string, string[]>;
  /** Chains that must not exist. */
  absent?: string[];
}

const cases: Case[] = [
  {
    name: 'no endpoints: REJECT in filter, no service chain',
    services: [service('web', '10.96.0.10', [{ name: 'http', port: 80, targetPort: 8080 }])],
    slices: [slice('web', [], [{ name: 'http', port: 8080 }])],
    filter: {
      'KEEL-SERVICES': ['-A KEEL-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable'],
      'KEEL-EXTERNAL-SERVICES': [],
    },
    nat: {
      'KEEL-SERVICES': ['-A KEEL-SERVICES -d 192.168.77.1/32 -m comment --comment "keel service nodeports; NOTE: this must be the last rule in this chain" -j KEEL-NODEPORTS'],
    },
    absent: [SVC],
  },
  {
    name: 'only not-ready endpoints count as none',
    services: [service('web', '10.96.0.10', [{ name: 'http', port: 80, targetPort: 8080 }])],
    slices: [slice('web', [{ ip: '10.244.1.2', ready: false }], [{ name: 'http', port: 8080 }])],
    filter: {
      'KEEL-SERVICES': ['-A KEEL-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable'],
    },
    absent: [SVC],
  },
  {
    name: 'one endpoint: no statistic match, hairpin mark, DNAT',
    services: [service('web', '10.96.0.10', [{ name: 'http', port: 80, targetPort: 8080 }])],
    slices: [slice('web', web(1), [{ name: 'http', port: 8080 }])],
    nat: {
      [SVC]: [`-A ${SVC} -m comment --comment "default/web:http -> 10.244.1.2:8080" -j ${sep('10.244.1.2')}`],
      [sep('10.244.1.2')]: [
        `-A ${sep('10.244.1.2')} -s 10.244.1.2/32 -m comment --comment "default/web:http" -j KEEL-MARK-MASQ`,
        `-A ${sep('10.244.1.2')} -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.2:8080`,
      ],
    },
    filter: { 'KEEL-SERVICES': [] },
  },
  {
    name: 'three endpoints: 1/3, 1/2, then the rest, in address order',
    services: [service('web', '10.96.0.10', [{ name: 'http', port: 80, targetPort: 8080 }])],
    slices: [slice('web', ['10.244.1.4', '10.244.1.2'], [{ name: 'http', port: 8080 }], { name: 'a' }), slice('web', ['10.244.1.3'], [{ name: 'http', port: 8080 }], { name: 'b' })],
    nat: {
      [SVC]: [
        `-A ${SVC} -m comment --comment "default/web:http -> 10.244.1.2:8080" -m statistic --mode random --probability 0.33333333349 -j ${sep('10.244.1.2')}`,
        `-A ${SVC} -m comment --comment "default/web:http -> 10.244.1.3:8080" -m statistic --mode random --probability 0.50000000000 -j ${sep('10.244.1.3')}`,
        `-A ${SVC} -m comment --comment "default/web:http -> 10.244.1.4:8080" -j ${sep('10.244.1.4')}`,
      ],
      'KEEL-SERVICES': [
        `-A KEEL-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j ${SVC}`,
        '-A KEEL-SERVICES -d 192.168.77.1/32 -m comment --comment "keel service nodeports; NOTE: this must be the last rule in this chain" -j KEEL-NODEPORTS',
      ],
    },
  },
  {
    name: 'named target port: the number comes from the slice port of the same name',
    services: [service('web', '10.96.0.10', [{ name: 'http', port: 80, targetPort: 'web' }])],
    slices: [slice('web', ['10.244.1.2'], [{ name: 'http', port: 9090 }], { name: 'a' }), slice('web', ['10.244.1.3'], [{ name: 'http', port: 9191 }], { name: 'b' })],
    nat: {
      [sep('10.244.1.2', 9090)]: [
        `-A ${sep('10.244.1.2', 9090)} -s 10.244.1.2/32 -m comment --comment "default/web:http" -j KEEL-MARK-MASQ`,
        `-A ${sep('10.244.1.2', 9090)} -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.2:9090`,
      ],
      [sep('10.244.1.3', 9191)]: [
        `-A ${sep('10.244.1.3', 9191)} -s 10.244.1.3/32 -m comment --comment "default/web:http" -j KEEL-MARK-MASQ`,
        `-A ${sep('10.244.1.3', 9191)} -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.3:9191`,
      ],
    },
  },
  {
    name: 'named target port in a hand-made slice naming the container port',
    services: [service('web', '10.96.0.10', [{ name: 'http', port: 80, targetPort: 'web' }])],
    slices: [slice('web', ['10.244.1.2'], [{ name: 'web', port: 9090 }])],
    nat: { [SVC]: [`-A ${SVC} -m comment --comment "default/web:http -> 10.244.1.2:9090" -j ${sep('10.244.1.2', 9090)}`] },
  },
  {
    name: 'NodePort: node IP jump last in KEEL-SERVICES, mark then service chain',
    services: [service('web', '10.96.0.10', [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }], { type: 'NodePort' })],
    slices: [slice('web', web(2), [{ name: 'http', port: 8080 }])],
    nat: {
      'KEEL-NODEPORTS': [
        '-A KEEL-NODEPORTS -p tcp -m comment --comment "default/web:http" -m tcp --dport 30080 -j KEEL-MARK-MASQ',
        `-A KEEL-NODEPORTS -p tcp -m comment --comment "default/web:http" -m tcp --dport 30080 -j ${SVC}`,
      ],
    },
  },
  {
    name: 'NodePort with no endpoints: REJECT on the node IP too',
    services: [service('web', '10.96.0.10', [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }], { type: 'NodePort' })],
    slices: [],
    filter: {
      'KEEL-EXTERNAL-SERVICES': ['-A KEEL-EXTERNAL-SERVICES -d 192.168.77.1/32 -p tcp -m comment --comment "default/web:http has no endpoints" -m tcp --dport 30080 -j REJECT --reject-with icmp-port-unreachable'],
    },
    nat: { 'KEEL-NODEPORTS': [] },
  },
  {
    name: 'a ClusterIP service gets no node port even if one is set',
    services: [service('web', '10.96.0.10', [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }])],
    slices: [slice('web', web(1), [{ name: 'http', port: 8080 }])],
    nat: { 'KEEL-NODEPORTS': [] },
  },
  {
    name: 'UDP and TCP on one port name are two chains; the slice port protocol must match',
    services: [
      service('dns', '10.96.0.53', [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 5353 },
      ]),
    ],
    slices: [slice('dns', ['10.244.1.5'], [{ name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'dns-tcp', port: 5353, protocol: 'TCP' }])],
    nat: {
      [sep('10.244.1.5', 5353, 'UDP', 'default/dns:dns')]: [
        `-A ${sep('10.244.1.5', 5353, 'UDP', 'default/dns:dns')} -s 10.244.1.5/32 -m comment --comment "default/dns:dns" -j KEEL-MARK-MASQ`,
        `-A ${sep('10.244.1.5', 5353, 'UDP', 'default/dns:dns')} -p udp -m comment --comment "default/dns:dns" -m udp -j DNAT --to-destination 10.244.1.5:5353`,
      ],
      'KEEL-SERVICES': [
        `-A KEEL-SERVICES -d 10.96.0.53/32 -p udp -m comment --comment "default/dns:dns cluster IP" -m udp --dport 53 -j ${serviceChain('default/dns:dns', 'UDP')}`,
        `-A KEEL-SERVICES -d 10.96.0.53/32 -p tcp -m comment --comment "default/dns:dns-tcp cluster IP" -m tcp --dport 53 -j ${serviceChain('default/dns:dns-tcp', 'TCP')}`,
        '-A KEEL-SERVICES -d 192.168.77.1/32 -m comment --comment "keel service nodeports; NOTE: this must be the last rule in this chain" -j KEEL-NODEPORTS',
      ],
    },
  },
  {
    name: 'cluster CIDR: traffic to the VIP from outside the pods is marked for masquerade',
    config: { ...config, clusterCidr: '10.244.0.0/16' },
    services: [service('web', '10.96.0.10', [{ name: 'http', port: 80, targetPort: 8080 }])],
    slices: [slice('web', web(1), [{ name: 'http', port: 8080 }])],
    nat: {
      [SVC]: [
        `-A ${SVC} ! -s 10.244.0.0/16 -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KEEL-MARK-MASQ`,
        `-A ${SVC} -m comment --comment "default/web:http -> 10.244.1.2:8080" -j ${sep('10.244.1.2')}`,
      ],
    },
  },
  {
    name: 'node ports on 127.0.0.1: jump for the loopback address, and outside packets to 127/8 dropped',
    config: { ...config, nodeIps: ['192.168.77.1', '127.0.0.1'] },
    services: [],
    slices: [],
    nat: {
      'KEEL-SERVICES': [
        '-A KEEL-SERVICES -d 192.168.77.1/32 -m comment --comment "keel service nodeports; NOTE: this must be the last rule in this chain" -j KEEL-NODEPORTS',
        '-A KEEL-SERVICES -d 127.0.0.1/32 -m comment --comment "keel service nodeports; NOTE: this must be the last rule in this chain" -j KEEL-NODEPORTS',
      ],
    },
    filter: {
      'KEEL-FIREWALL': [
        '-A KEEL-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "keel: block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
      ],
    },
  },
  {
    name: 'no loopback node IP: the firewall chain stays empty',
    services: [],
    slices: [],
    filter: { 'KEEL-FIREWALL': [] },
  },
  {
    name: 'hairpin masquerade goes out of the pod bridges only',
    config: { nodeIps: [], masqueradeOut: ['keel-cni0', 'keel-cni1'], masqueradeBit: 13 },
    services: [],
    slices: [],
    nat: {
      'KEEL-POSTROUTING': [
        '-A KEEL-POSTROUTING -m mark ! --mark 0x2000/0x2000 -j RETURN',
        '-A KEEL-POSTROUTING -j MARK --set-xmark 0x2000/0x0',
        '-A KEEL-POSTROUTING -o keel-cni0 -m comment --comment "keel service traffic requiring SNAT" -j MASQUERADE',
        '-A KEEL-POSTROUTING -o keel-cni1 -m comment --comment "keel service traffic requiring SNAT" -j MASQUERADE',
      ],
      'KEEL-MARK-MASQ': ['-A KEEL-MARK-MASQ -j MARK --set-xmark 0x2000/0x2000'],
      'KEEL-SERVICES': [],
    },
  },
  {
    name: 'session affinity ClientIP: recent checks first, recent set on DNAT',
    services: [service('web', '10.96.0.10', [{ name: 'http', port: 80, targetPort: 8080 }], { sessionAffinity: 'ClientIP' })],
    slices: [slice('web', web(2), [{ name: 'http', port: 8080 }])],
    nat: {
      [SVC]: [
        `-A ${SVC} -m comment --comment "default/web:http -> 10.244.1.2:8080" -m recent --rcheck --seconds 10800 --reap --name ${sep('10.244.1.2')} --mask 255.255.255.255 --rsource -j ${sep('10.244.1.2')}`,
        `-A ${SVC} -m comment --comment "default/web:http -> 10.244.1.3:8080" -m recent --rcheck --seconds 10800 --reap --name ${sep('10.244.1.3')} --mask 255.255.255.255 --rsource -j ${sep('10.244.1.3')}`,
        `-A ${SVC} -m comment --comment "default/web:http -> 10.244.1.2:8080" -m statistic --mode random --probability 0.50000000000 -j ${sep('10.244.1.2')}`,
        `-A ${SVC} -m comment --comment "default/web:http -> 10.244.1.3:8080" -j ${sep('10.244.1.3')}`,
      ],
      [sep('10.244.1.3')]: [
        `-A ${sep('10.244.1.3')} -s 10.244.1.3/32 -m comment --comment "default/web:http" -j KEEL-MARK-MASQ`,
        `-A ${sep('10.244.1.3')} -p tcp -m comment --comment "default/web:http" -m recent --set --name ${sep('10.244.1.3')} --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.244.1.3:8080`,
      ],
    },
  },
  {
    name: 'headless and ExternalName services program nothing',
    services: [
      service('headless', 'None', [{ name: 'http', port: 80 }]),
      { ...service('ext', '', []), spec: { type: 'ExternalName', externalName: 'example.invalid' } },
    ],
    slices: [slice('headless', web(1), [{ name: 'http', port: 80 }])],
    filter: { 'KEEL-SERVICES': [] },
    nat: { 'KEEL-SERVICES': ['-A KEEL-SERVICES -d 192.168.77.1/32 -m comment --comment "keel service nodeports; NOTE: this must be the last rule in this chain" -j KEEL-NODEPORTS'] },
  },
  {
    name: 'slices of another namespace or service do not leak in',
    services: [service('web', '10.96.0.10', [{ name: 'http', port: 80, targetPort: 8080 }])],
    slices: [slice('web', ['10.244.1.2'], [{ name: 'http', port: 8080 }], { namespace: 'other' }), slice('api', ['10.244.1.3'], [{ name: 'http', port: 8080 }])],
    absent: [SVC],
  },
  {
    name: 'Endpoints converted to slices work alike (ready and not-ready addresses)',
    services: [service('web', '10.96.0.10', [{ name: 'http', port: 80, targetPort: 8080 }])],
    slices: endpointsToSlices({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'web', namespace: 'default' },
      subsets: [{ addresses: [{ ip: '10.244.1.2' }], notReadyAddresses: [{ ip: '10.244.1.3' }], ports: [{ name: 'http', port: 8080 }] }],
    }),
    nat: { [SVC]: [`-A ${SVC} -m comment --comment "default/web:http -> 10.244.1.2:8080" -j ${sep('10.244.1.2')}`] },
  },
];

describe('computeRules', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { tables } = computeRules(c.services, c.slices, c.config ?? config);
    for (const [chain, lines] of Object.entries(c.nat ?? {})) expect(tables.nat.get(chain), `nat ${chain}`).toEqual(lines);
    for (const [chain, lines] of Object.entries(c.filter ?? {})) expect(tables.filter.get(chain), `filter ${chain}`).toEqual(lines);
    for (const chain of c.absent ?? []) expect(tables.nat.has(chain) || tables.filter.has(chain), chain).toBe(false);
  });

  it('is deterministic whatever order the objects come in', () => {
    const services = [
      service('a', '10.96.0.1', [{ name: 'p', port: 1, targetPort: 1 }]),
      service('b', '10.96.0.2', [{ name: 'p', port: 2, targetPort: 2 }], { type: 'NodePort' }),
    ];
    const slices = [slice('a', ['10.244.0.2', '10.244.0.3'], [{ name: 'p', port: 1 }]), slice('b', ['10.244.0.4'], [{ name: 'p', port: 2 }])];
    const one = computeRules(services, slices, config);
    const two = computeRules([...services].reverse(), [...slices].reverse(), config);
    expect([...two.tables.nat]).toEqual([...one.tables.nat]);
    // b is a NodePort without a node port assigned yet: no KEEL-NODEPORTS rule.
    expect(one.counts).toEqual({ servicePorts: 2, endpoints: 3, chains: 12, rules: 16 });
  });

  it('every chain a rule jumps to exists (no dangling -j)', () => {
    const services = Array.from({ length: 20 }, (_, i) =>
      service(`s${i}`, `10.96.1.${i}`, [{ name: 'p', port: 80, targetPort: 8080, nodePort: 30000 + i }], { type: i % 2 ? 'NodePort' : 'ClusterIP', sessionAffinity: i % 3 ? undefined : 'ClientIP' }),
    );
    const slices = services.map((s, i) => slice(s.metadata.name!, web(i % 5), [{ name: 'p', port: 8080 }]));
    const { tables } = computeRules(services, slices, { ...config, clusterCidr: '10.244.0.0/16' });
    for (const chains of [tables.nat, tables.filter]) {
      for (const lines of chains.values()) {
        for (const line of lines) {
          const target = / -j (KEEL-\S+)/.exec(line)?.[1];
          if (target) expect(chains.has(target), line).toBe(true);
        }
      }
    }
  });

  it('with a cache, an unchanged Service hands back the very same lines, and a changed one is recomputed', () => {
    const cache = new RuleCache();
    const a = service('a', '10.96.0.1', [{ name: 'p', port: 80, targetPort: 8080 }]);
    const b = service('b', '10.96.0.2', [{ name: 'p', port: 80, targetPort: 8080 }]);
    const sa = slice('a', ['10.244.0.2'], [{ name: 'p', port: 8080 }]);
    const sb = slice('b', ['10.244.0.3'], [{ name: 'p', port: 8080 }]);
    const first = computeRules([a, b], [sa, sb], config, cache);
    const sb2 = slice('b', ['10.244.0.3', '10.244.0.4'], [{ name: 'p', port: 8080 }]);
    const second = computeRules([a, b], [sa, sb2], config, cache);
    const chainA = serviceChain('default/a:p', 'TCP');
    const chainB = serviceChain('default/b:p', 'TCP');
    expect(second.tables.nat.get(chainA)).toBe(first.tables.nat.get(chainA));
    expect(second.tables.nat.get(chainB)).not.toBe(first.tables.nat.get(chainB));
    expect(second.tables.nat.get(chainB)).toHaveLength(2);
    // Same answer as without a cache, and a different config is not served from it.
    expect([...second.tables.nat]).toEqual([...computeRules([a, b], [sa, sb2], config).tables.nat]);
    const other = computeRules([a, b], [sa, sb2], { ...config, clusterCidr: '10.244.0.0/16' }, cache);
    expect(other.tables.nat.get(chainA)).toHaveLength(2);
  });
});
