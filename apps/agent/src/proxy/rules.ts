// The rule computer: Services, their EndpointSlices and the node's settings in, the
// complete set of KEEL chains out, as `-A` lines per chain per table. Pure: no I/O, and
// the same input always gives the same text, which is what lets the syncer diff chain by
// chain. The shapes follow kube-proxy's iptables mode:
//   nat KEEL-SERVICES    (from PREROUTING and OUTPUT) cluster IP:port → KEEL-SVC-…, and last,
//                        the node's own IPs → KEEL-NODEPORTS
//   nat KEEL-NODEPORTS   node port → mark for masquerade, then KEEL-SVC-…
//   nat KEEL-SVC-…       one per service port: mark traffic from outside the cluster CIDR,
//                        then pick an endpoint with probabilities 1/n, 1/(n-1), …, 1
//   nat KEEL-SEP-…       one per endpoint: hairpin (source = the endpoint) is marked, then DNAT
//   nat KEEL-POSTROUTING (from POSTROUTING) masquerade marked packets, out of the pod bridges only
//   filter KEEL-SERVICES / KEEL-EXTERNAL-SERVICES  REJECT for ports with no ready endpoint
import type { EndpointSlice, Service } from '@keel/api';
import { readyEndpoints, servicePorts, sliceServiceKey, type EndpointInfo, type ServicePortInfo } from './model';
import { endpointChain, FIXED_CHAINS, probability, serviceChain } from './names';

export type Table = 'nat' | 'filter';
export const TABLES: readonly Table[] = ['filter', 'nat'];

/** Chain name → its `-A` lines, in the order they are written. */
export type Chains = Map<string, string[]>;
export type TableChains = Record<Table, Chains>;

export interface RuleConfig {
  /** The node's own IPs: node ports answer on these (never on every local address). */
  nodeIps: readonly string[];
  /** Links masquerade may go out of: the pod bridge(s), e.g. keel-cni0. Never an outside link. */
  masqueradeOut: readonly string[];
  /** The pods' CIDR: traffic to a cluster IP from outside it is masqueraded (kube-proxy's --cluster-cidr). */
  clusterCidr?: string;
  /** The bit of the packet mark that asks for masquerade (kube-proxy's 14, 0x4000). */
  masqueradeBit?: number;
}

/** A jump from a built-in chain into ours, kept by the syncer (never written with -A twice). */
export interface Jump {
  table: Table;
  chain: string;
  /** The rule's arguments after the chain name, as written. */
  rule: string;
  target: string;
}

/** The jumps from the built-in chains, in kube-proxy's places. */
export const JUMPS: readonly Jump[] = [
  { table: 'nat', chain: 'PREROUTING', rule: '-m comment --comment "keel service portals" -j KEEL-SERVICES', target: 'KEEL-SERVICES' },
  { table: 'nat', chain: 'OUTPUT', rule: '-m comment --comment "keel service portals" -j KEEL-SERVICES', target: 'KEEL-SERVICES' },
  { table: 'nat', chain: 'POSTROUTING', rule: '-m comment --comment "keel postrouting rules" -j KEEL-POSTROUTING', target: 'KEEL-POSTROUTING' },
  ...(['OUTPUT', 'FORWARD'] as const).map((chain) => ({
    table: 'filter' as const,
    chain,
    rule: '-m conntrack --ctstate NEW -m comment --comment "keel service portals" -j KEEL-SERVICES',
    target: 'KEEL-SERVICES',
  })),
  ...(['INPUT', 'FORWARD'] as const).map((chain) => ({
    table: 'filter' as const,
    chain,
    rule: '-m conntrack --ctstate NEW -m comment --comment "keel external services" -j KEEL-EXTERNAL-SERVICES',
    target: 'KEEL-EXTERNAL-SERVICES',
  })),
];

/** One service port as programmed: its info, chosen endpoints and chain names. */
export interface ProgrammedPort {
  info: ServicePortInfo;
  endpoints: EndpointInfo[];
  svcChain: string;
}

export interface RuleSet {
  tables: TableChains;
  ports: ProgrammedPort[];
  /** Counts, for metrics and the benchmark. */
  counts: { servicePorts: number; endpoints: number; chains: number; rules: number };
}

function comment(text: string): string {
  return `-m comment --comment "${text}"`;
}

function protoMatch(protocol: string): string {
  const p = protocol.toLowerCase();
  return `-p ${p} -m ${p}`;
}

/** Every service port with its ready endpoints, in a stable order. */
export function programmedPorts(services: readonly Service[], slices: readonly EndpointSlice[]): ProgrammedPort[] {
  const slicesByService = new Map<string, EndpointSlice[]>();
  for (const slice of slices) {
    const key = sliceServiceKey(slice);
    if (!key) continue;
    const list = slicesByService.get(key);
    if (list) list.push(slice);
    else slicesByService.set(key, [slice]);
  }
  const ports: ProgrammedPort[] = [];
  for (const svc of services) {
    const own = slicesByService.get(`${svc.metadata.namespace ?? 'default'}/${svc.metadata.name ?? ''}`) ?? [];
    for (const info of servicePorts(svc)) {
      ports.push({ info, endpoints: readyEndpoints(info, own), svcChain: serviceChain(info.key, info.protocol) });
    }
  }
  // Protocol too: one Service may serve the same port name over TCP and UDP (DNS).
  return ports.sort((a, b) => (a.info.key < b.info.key ? -1 : a.info.key > b.info.key ? 1 : a.info.protocol < b.info.protocol ? -1 : 1));
}

export function computeRules(services: readonly Service[], slices: readonly EndpointSlice[], config: RuleConfig): RuleSet {
  const bit = config.masqueradeBit ?? 14;
  const mark = `0x${(1 << bit).toString(16)}`;
  const nat: Chains = new Map(FIXED_CHAINS.nat.map((c) => [c, [] as string[]]));
  const filter: Chains = new Map(FIXED_CHAINS.filter.map((c) => [c, [] as string[]]));
  const add = (chains: Chains, chain: string, rule: string) => {
    let lines = chains.get(chain);
    if (!lines) chains.set(chain, (lines = []));
    lines.push(`-A ${chain} ${rule}`);
  };

  nat.get('KEEL-MARK-MASQ')!.push(`-A KEEL-MARK-MASQ -j MARK --or-mark ${mark}`);
  // Unmarked packets leave untouched; the mark is cleared so a packet that comes back in
  // (through another link of this machine) is not masqueraded twice.
  add(nat, 'KEEL-POSTROUTING', `-m mark ! --mark ${mark}/${mark} -j RETURN`);
  add(nat, 'KEEL-POSTROUTING', `-j MARK --xor-mark ${mark}`);
  for (const link of config.masqueradeOut) {
    add(nat, 'KEEL-POSTROUTING', `-o ${link} ${comment('keel service traffic requiring SNAT')} -j MASQUERADE`);
  }

  const ports = programmedPorts(services, slices);
  let endpoints = 0;
  for (const { info, endpoints: eps, svcChain } of ports) {
    const proto = protoMatch(info.protocol);
    const vip = `-d ${info.clusterIp}/32 ${proto} --dport ${info.port}`;
    if (eps.length === 0) {
      // Nothing to DNAT to: say so at once instead of letting the packet wander.
      add(filter, 'KEEL-SERVICES', `${comment(`${info.key} has no endpoints`)} ${vip} -j REJECT`);
      if (info.nodePort !== undefined) {
        for (const ip of config.nodeIps) {
          add(filter, 'KEEL-EXTERNAL-SERVICES', `${comment(`${info.key} has no endpoints`)} -d ${ip}/32 ${proto} --dport ${info.nodePort} -j REJECT`);
        }
      }
      continue;
    }
    endpoints += eps.length;
    add(nat, 'KEEL-SERVICES', `${comment(`${info.key} cluster IP`)} ${vip} -j ${svcChain}`);
    if (config.clusterCidr) {
      add(nat, svcChain, `${comment(`${info.key} cluster IP`)} ! -s ${config.clusterCidr} ${vip} -j KEEL-MARK-MASQ`);
    }
    if (info.nodePort !== undefined) {
      // Traffic from outside reaches a pod with the node as its source, so the reply comes back through us.
      add(nat, 'KEEL-NODEPORTS', `${comment(info.key)} ${proto} --dport ${info.nodePort} -j KEEL-MARK-MASQ`);
      add(nat, 'KEEL-NODEPORTS', `${comment(info.key)} ${proto} --dport ${info.nodePort} -j ${svcChain}`);
    }
    const sepChains = eps.map((ep) => endpointChain(info.key, info.protocol, `${ep.ip}:${ep.port}`));
    if (info.affinitySeconds !== undefined) {
      eps.forEach((ep, i) => {
        add(nat, svcChain, `${comment(`${info.key} -> ${ep.ip}:${ep.port}`)} -m recent --name ${sepChains[i]} --rcheck --seconds ${info.affinitySeconds} --reap -j ${sepChains[i]}`);
      });
    }
    eps.forEach((ep, i) => {
      const left = eps.length - i;
      const pick = left > 1 ? ` -m statistic --mode random --probability ${probability(left)}` : '';
      add(nat, svcChain, `${comment(`${info.key} -> ${ep.ip}:${ep.port}`)}${pick} -j ${sepChains[i]}`);
    });
    eps.forEach((ep, i) => {
      const sep = sepChains[i]!;
      // Hairpin: a pod reaching itself through its Service must not see its own address as the source.
      add(nat, sep, `${comment(info.key)} -s ${ep.ip}/32 -j KEEL-MARK-MASQ`);
      const recent = info.affinitySeconds !== undefined ? ` -m recent --name ${sep} --set` : '';
      add(nat, sep, `${comment(info.key)}${recent} ${proto} -j DNAT --to-destination ${ep.ip}:${ep.port}`);
    });
  }
  for (const ip of config.nodeIps) {
    add(nat, 'KEEL-SERVICES', `${comment('keel service nodeports; NOTE: this must be the last rule in this chain')} -d ${ip}/32 -j KEEL-NODEPORTS`);
  }

  let rules = 0;
  for (const chains of [nat, filter]) for (const lines of chains.values()) rules += lines.length;
  return {
    tables: { nat, filter },
    ports,
    counts: { servicePorts: ports.length, endpoints, chains: nat.size + filter.size, rules },
  };
}
