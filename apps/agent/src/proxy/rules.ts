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
//   filter KEEL-FIREWALL (from INPUT) with node ports on 127.0.0.1, drop outside packets to 127/8
import type { EndpointSlice, Service } from '@keel/api';
import { readyEndpoints, servicePorts, sliceServiceKey, type EndpointInfo, type ServicePortInfo } from './model';
import { endpointChain, probability, serviceChain } from './names';

export type Table = 'nat' | 'filter';
export const TABLES: readonly Table[] = ['filter', 'nat'];

/** Chain name → its `-A` lines, in the order they are written. */
export type Chains = Map<string, string[]>;
export type TableChains = Record<Table, Chains>;

export interface RuleConfig {
  /**
   * The node's own IPs: node ports answer on these (never on every local address). A
   * loopback address here (127.0.0.1) makes node ports answer on it too, as kube-proxy's
   * localhost node ports do; the proxy then turns route_localnet on.
   */
  nodeIps: readonly string[];
  /** Links masquerade may go out of: the pod bridge(s), e.g. keel-cni0. Never an outside link. */
  masqueradeOut: readonly string[];
  /** The pods' CIDR: traffic to a cluster IP from outside it is masqueraded (kube-proxy's --cluster-cidr). */
  clusterCidr?: string;
  /** The bit of the packet mark that asks for masquerade (kube-proxy's 14, 0x4000). */
  masqueradeBit?: number;
}

/** True for 127.0.0.0/8: node ports there need net.ipv4.conf.all.route_localnet=1. */
export function isLoopback(ip: string): boolean {
  return ip.startsWith('127.');
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
  { table: 'filter', chain: 'INPUT', rule: '-m comment --comment "keel firewall" -j KEEL-FIREWALL', target: 'KEEL-FIREWALL' },
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

// Every rule is written exactly as iptables-save prints it back (addresses, protocol and
// interfaces first, then the matches in order, each target with its options spelled out:
// MARK as --set-xmark, REJECT with --reject-with, recent with its mask and side), so a full
// sync can compare the chains in the kernel with ours line for line and rewrite only those
// that drifted. The integration tests check this against the real iptables-save.
function comment(text: string): string {
  return `-m comment --comment "${text}"`;
}

/** The slices of each Service, by "ns/name", in the order they came. */
function slicesByService(slices: readonly EndpointSlice[]): Map<string, EndpointSlice[]> {
  const byService = new Map<string, EndpointSlice[]>();
  for (const slice of slices) {
    const key = sliceServiceKey(slice);
    if (!key) continue;
    const list = byService.get(key);
    if (list) list.push(slice);
    else byService.set(key, [slice]);
  }
  return byService;
}

const serviceKey = (svc: Service) => `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name ?? ''}`;
const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

function portsOf(svc: Service, own: readonly EndpointSlice[]): ProgrammedPort[] {
  return servicePorts(svc)
    .map((info) => ({ info, endpoints: readyEndpoints(info, own), svcChain: serviceChain(info.key, info.protocol) }))
    .sort((a, b) => byKey(a.info, b.info) || (a.info.protocol < b.info.protocol ? -1 : 1));
}

/** Every service port with its ready endpoints, in a stable order (by service, then port). */
export function programmedPorts(services: readonly Service[], slices: readonly EndpointSlice[]): ProgrammedPort[] {
  const grouped = slicesByService(slices);
  return services
    .map((svc) => ({ key: serviceKey(svc), svc }))
    .sort(byKey)
    .flatMap(({ key, svc }) => portsOf(svc, grouped.get(key) ?? []));
}

/** What one Service contributes to the tables. */
interface ServiceRules {
  ports: ProgrammedPort[];
  /** Its own nat chains (KEEL-SVC-…, KEEL-SEP-…) with their lines. */
  chains: [string, string[]][];
  services: string[];
  nodePorts: string[];
  rejects: string[];
  externalRejects: string[];
  endpoints: number;
}

/**
 * Remembers each Service's rules while the Service object, its slices (by identity) and
 * the config stay the same, so a sync recomputes only what changed. The proxy replaces an
 * object on every update and never mutates one, which is what makes identity enough.
 */
export class RuleCache {
  private entries = new WeakMap<Service, { slices: readonly EndpointSlice[]; config: RuleConfig; rules: ServiceRules }>();

  get(svc: Service, slices: readonly EndpointSlice[], config: RuleConfig): ServiceRules | undefined {
    const hit = this.entries.get(svc);
    if (!hit || hit.config !== config || hit.slices.length !== slices.length) return undefined;
    for (let i = 0; i < slices.length; i++) if (hit.slices[i] !== slices[i]) return undefined;
    return hit.rules;
  }

  set(svc: Service, slices: readonly EndpointSlice[], config: RuleConfig, rules: ServiceRules): void {
    this.entries.set(svc, { slices, config, rules });
  }
}

function serviceRules(svc: Service, own: readonly EndpointSlice[], config: RuleConfig): ServiceRules {
  const out: ServiceRules = { ports: portsOf(svc, own), chains: [], services: [], nodePorts: [], rejects: [], externalRejects: [], endpoints: 0 };
  for (const { info, endpoints: eps, svcChain } of out.ports) {
    const p = info.protocol.toLowerCase();
    const dst = `-d ${info.clusterIp}/32 -p ${p}`;
    const dport = `-m ${p} --dport ${info.port}`;
    if (eps.length === 0) {
      // Nothing to DNAT to: say so at once instead of letting the packet wander.
      out.rejects.push(`-A KEEL-SERVICES ${dst} ${comment(`${info.key} has no endpoints`)} ${dport} -j REJECT --reject-with icmp-port-unreachable`);
      if (info.nodePort !== undefined) {
        for (const ip of config.nodeIps) {
          out.externalRejects.push(
            `-A KEEL-EXTERNAL-SERVICES -d ${ip}/32 -p ${p} ${comment(`${info.key} has no endpoints`)} -m ${p} --dport ${info.nodePort} -j REJECT --reject-with icmp-port-unreachable`,
          );
        }
      }
      continue;
    }
    out.endpoints += eps.length;
    out.services.push(`-A KEEL-SERVICES ${dst} ${comment(`${info.key} cluster IP`)} ${dport} -j ${svcChain}`);
    const svcLines: string[] = [];
    out.chains.push([svcChain, svcLines]);
    if (config.clusterCidr) {
      svcLines.push(`-A ${svcChain} ! -s ${config.clusterCidr} ${dst} ${comment(`${info.key} cluster IP`)} ${dport} -j KEEL-MARK-MASQ`);
    }
    if (info.nodePort !== undefined) {
      // Traffic from outside reaches a pod with the node as its source, so the reply comes back through us.
      out.nodePorts.push(`-A KEEL-NODEPORTS -p ${p} ${comment(info.key)} -m ${p} --dport ${info.nodePort} -j KEEL-MARK-MASQ`);
      out.nodePorts.push(`-A KEEL-NODEPORTS -p ${p} ${comment(info.key)} -m ${p} --dport ${info.nodePort} -j ${svcChain}`);
    }
    const sepChains = eps.map((ep) => endpointChain(info.key, info.protocol, `${ep.ip}:${ep.port}`));
    if (info.affinitySeconds !== undefined) {
      eps.forEach((ep, i) => {
        const sep = sepChains[i]!;
        svcLines.push(`-A ${svcChain} ${comment(`${info.key} -> ${ep.ip}:${ep.port}`)} -m recent --rcheck --seconds ${info.affinitySeconds} --reap --name ${sep} --mask 255.255.255.255 --rsource -j ${sep}`);
      });
    }
    eps.forEach((ep, i) => {
      const left = eps.length - i;
      const pick = left > 1 ? ` -m statistic --mode random --probability ${probability(left)}` : '';
      svcLines.push(`-A ${svcChain} ${comment(`${info.key} -> ${ep.ip}:${ep.port}`)}${pick} -j ${sepChains[i]}`);
    });
    eps.forEach((ep, i) => {
      const sep = sepChains[i]!;
      const recent = info.affinitySeconds !== undefined ? ` -m recent --set --name ${sep} --mask 255.255.255.255 --rsource` : '';
      out.chains.push([
        sep,
        [
          // Hairpin: a pod reaching itself through its Service must not see its own address as the source.
          `-A ${sep} -s ${ep.ip}/32 ${comment(info.key)} -j KEEL-MARK-MASQ`,
          `-A ${sep} -p ${p} ${comment(info.key)}${recent} -m ${p} -j DNAT --to-destination ${ep.ip}:${ep.port}`,
        ],
      ]);
    });
  }
  return out;
}

export function computeRules(services: readonly Service[], slices: readonly EndpointSlice[], config: RuleConfig, cache?: RuleCache): RuleSet {
  const bit = config.masqueradeBit ?? 14;
  const mark = `0x${(1 << bit).toString(16)}`;
  const natServices: string[] = [];
  const nodePorts: string[] = [];
  const rejects: string[] = [];
  const externalRejects: string[] = [];
  const postrouting = [
    // Unmarked packets leave untouched; the mark is cleared so a packet that comes back in
    // (through another link of this machine) is not masqueraded twice.
    `-A KEEL-POSTROUTING -m mark ! --mark ${mark}/${mark} -j RETURN`,
    `-A KEEL-POSTROUTING -j MARK --set-xmark ${mark}/0x0`,
    ...config.masqueradeOut.map((link) => `-A KEEL-POSTROUTING -o ${link} ${comment('keel service traffic requiring SNAT')} -j MASQUERADE`),
  ];
  const nat: Chains = new Map([
    ['KEEL-SERVICES', natServices],
    ['KEEL-NODEPORTS', nodePorts],
    ['KEEL-POSTROUTING', postrouting],
    ['KEEL-MARK-MASQ', [`-A KEEL-MARK-MASQ -j MARK --set-xmark ${mark}/${mark}`]],
  ]);
  const filter: Chains = new Map([
    ['KEEL-SERVICES', rejects],
    ['KEEL-EXTERNAL-SERVICES', externalRejects],
    // Node ports on 127.0.0.1 need route_localnet, which would also let packets from outside
    // reach 127.0.0.0/8: drop those unless DNAT sent them on (kube-proxy's CVE-2020-8558 rule).
    [
      'KEEL-FIREWALL',
      config.nodeIps.some(isLoopback)
        ? [
            `-A KEEL-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 ${comment('keel: block incoming localnet connections')} -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`,
          ]
        : [],
    ],
  ]);

  const grouped = slicesByService(slices);
  const ordered = services.map((svc) => ({ key: serviceKey(svc), svc })).sort(byKey);
  const ports: ProgrammedPort[] = [];
  let endpoints = 0;
  for (const { key, svc } of ordered) {
    const own = grouped.get(key) ?? [];
    let rules = cache?.get(svc, own, config);
    if (!rules) {
      rules = serviceRules(svc, own, config);
      cache?.set(svc, own, config, rules);
    }
    for (const p of rules.ports) ports.push(p);
    for (const [chain, lines] of rules.chains) nat.set(chain, lines);
    for (const l of rules.services) natServices.push(l);
    for (const l of rules.nodePorts) nodePorts.push(l);
    for (const l of rules.rejects) rejects.push(l);
    for (const l of rules.externalRejects) externalRejects.push(l);
    endpoints += rules.endpoints;
  }
  for (const ip of config.nodeIps) {
    natServices.push(`-A KEEL-SERVICES -d ${ip}/32 ${comment('keel service nodeports; NOTE: this must be the last rule in this chain')} -j KEEL-NODEPORTS`);
  }

  let rules = 0;
  for (const chains of [nat, filter]) for (const lines of chains.values()) rules += lines.length;
  return {
    tables: { nat, filter },
    ports,
    counts: { servicePorts: ports.length, endpoints, chains: nat.size + filter.size, rules },
  };
}
