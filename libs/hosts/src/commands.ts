// The command lines libs/hosts runs, as pure functions of what is asked, so unit tests can
// read them: the bridge, a host's namespace and veth pair, routes, and the iptables rules
// (egress guard, forwarding on the bridge, a loopback port published to the hosts).
// A Command with `netns` runs inside that namespace via nsenter (see exec.ts).
import { cidrsOverlap, containsAddress, nthAddress, parseCidr, parseIpv4 } from './cidr';
import { HOST_INTERFACE, assertKeelName, assertLinkName, ruleComment, vethName } from './names';

export interface Command {
  cmd: string;
  args: string[];
  netns?: string;
}

/** A host bridge: a keel-… link on the root side, with the subnet's first address as gateway. */
export interface BridgeSpec {
  name: string;
  /** The bridge's subnet, e.g. 10.242.0.0/24; every host on the bridge gets an address in it. */
  subnet: string;
}

export interface Bridge extends BridgeSpec {
  gateway: string;
  prefix: number;
}

export function bridgeOf(spec: BridgeSpec): Bridge {
  assertLinkName('bridge', spec.name);
  const c = parseCidr(spec.subnet);
  if (c.prefix > 30) throw new Error(`bridge subnet ${spec.subnet} is too small for a gateway and hosts`);
  return { ...spec, gateway: nthAddress(spec.subnet, 1), prefix: c.prefix };
}

/** Creates the bridge link (run only when it is missing), then addresses it and brings it up. */
export function createBridgeCommands(b: Bridge): Command[] {
  return [{ cmd: 'ip', args: ['link', 'add', 'name', b.name, 'type', 'bridge'] }];
}

export function configureBridgeCommands(b: Bridge): Command[] {
  return [
    { cmd: 'ip', args: ['addr', 'replace', `${b.gateway}/${b.prefix}`, 'dev', b.name] },
    { cmd: 'ip', args: ['link', 'set', 'dev', b.name, 'up'] },
  ];
}

/** Checks a host's address: inside the bridge subnet, not the gateway, network or broadcast. */
export function checkHostAddress(b: Bridge, address: string): void {
  if (!containsAddress(b.subnet, address)) throw new Error(`host address ${address} is outside the bridge subnet ${b.subnet}`);
  const c = parseCidr(b.subnet);
  const offset = parseIpv4(address) - c.base;
  if (offset === 0) throw new Error(`host address ${address} is the network address of ${b.subnet}`);
  if (offset === c.size - 1) throw new Error(`host address ${address} is the broadcast address of ${b.subnet}`);
  if (address === b.gateway) throw new Error(`host address ${address} is the bridge's gateway`);
}

/** The namespace itself (run only when /var/run/netns/NAME is missing). */
export function createNetnsCommands(host: string): Command[] {
  return [{ cmd: 'ip', args: ['netns', 'add', assertKeelName('host', host)] }];
}

/** The veth pair, its peer born inside the namespace as keel-eth0 (run only when the root end is missing). */
export function createVethCommands(host: string): Command[] {
  return [{ cmd: 'ip', args: ['link', 'add', 'name', vethName(host), 'type', 'veth', 'peer', 'name', HOST_INTERFACE, 'netns', host] }];
}

/**
 * Wires an existing pair: the root end into the bridge, the host's address on keel-eth0, lo and
 * keel-eth0 up. The /prefix address gives the host a route to the bridge subnet and nothing else:
 * no default route, so nothing from a host can leave the machine.
 */
export function configureHostCommands(host: string, b: Bridge, address: string): Command[] {
  const veth = vethName(host);
  return [
    { cmd: 'ip', args: ['link', 'set', 'dev', veth, 'master', b.name] },
    { cmd: 'ip', args: ['link', 'set', 'dev', veth, 'up'] },
    { cmd: 'ip', args: ['addr', 'replace', `${address}/${b.prefix}`, 'dev', HOST_INTERFACE], netns: host },
    { cmd: 'ip', args: ['link', 'set', 'dev', 'lo', 'up'], netns: host },
    { cmd: 'ip', args: ['link', 'set', 'dev', HOST_INTERFACE, 'up'], netns: host },
  ];
}

export function removeHostCommands(host: string): Command[] {
  // Deleting the root end deletes its peer; deleting the namespace drops what is left in it.
  return [
    { cmd: 'ip', args: ['link', 'del', 'dev', vethName(host)] },
    { cmd: 'ip', args: ['netns', 'del', assertKeelName('host', host)] },
  ];
}

export interface RouteSpec {
  /** The destination, e.g. another node's pod CIDR; never a default route. */
  dst: string;
  /** The next hop, e.g. that node's address on the bridge. */
  via: string;
  /** Inside this host; on the root side when absent. */
  host?: string;
  /** On the root side, the keel-… link the next hop is on (the bridge); required there. */
  dev?: string;
}

/** Checks a route: a real prefix (not 0.0.0.0/0), and on the root side only through a keel-… link. */
export function checkRoute(r: RouteSpec): void {
  const c = parseCidr(r.dst);
  if (c.prefix === 0) throw new Error('refusing a default route: hosts must not reach out of the machine');
  if (!r.host) {
    if (!r.dev) throw new Error(`a root-side route to ${r.dst} needs dev (the keel-… bridge it goes through)`);
    assertLinkName('route dev', r.dev);
  }
  if (cidrsOverlap(r.dst, `${r.via}/32`)) throw new Error(`route to ${r.dst} via ${r.via}: the next hop is inside the destination`);
}

export function addRouteCommand(r: RouteSpec): Command {
  checkRoute(r);
  const dev = r.host ? (r.dev ? ['dev', r.dev] : []) : ['dev', r.dev!];
  return { cmd: 'ip', args: ['route', 'replace', r.dst, 'via', r.via, ...dev], netns: r.host };
}

export function removeRouteCommand(r: RouteSpec): Command {
  checkRoute(r);
  const dev = r.host ? (r.dev ? ['dev', r.dev] : []) : ['dev', r.dev!];
  return { cmd: 'ip', args: ['route', 'del', r.dst, 'via', r.via, ...dev], netns: r.host };
}

/**
 * Forwarded packets from `cidr` may leave only through keel-… links: never through the
 * machine's own interfaces (eth0 is the outside). iptables rule body for -C/-I/-D FORWARD.
 */
export function egressGuardRule(bridge: string, cidr: string): string[] {
  parseCidr(cidr);
  return ['FORWARD', '-s', cidr, '!', '-o', 'keel-+', '-m', 'comment', '--comment', ruleComment(bridge, `egress guard ${cidr}`), '-j', 'DROP'];
}

/** Hosts on the bridge may reach each other even where FORWARD's policy drops (br_netfilter). */
export function bridgeForwardRule(bridge: string): string[] {
  return ['FORWARD', '-i', bridge, '-o', bridge, '-m', 'comment', '--comment', ruleComment(bridge, 'forward'), '-j', 'ACCEPT'];
}

/**
 * Makes 127.0.0.1:port on the root side reachable from the hosts as gateway:port (a registry
 * or an apiserver that listens on loopback only). Needs route_localnet=1 on the bridge.
 * Rule body for iptables -t nat -C/-I/-D.
 */
export function publishLoopbackRule(b: Bridge, port: number, targetPort = port): string[] {
  for (const [what, p] of [['port', port], ['targetPort', targetPort]] as const) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`${what} must be 1-65535, got ${p}`);
  }
  return [
    'PREROUTING',
    '-i', b.name,
    '-d', b.gateway,
    '-p', 'tcp',
    '--dport', String(port),
    '-m', 'comment', '--comment', ruleComment(b.name, `loopback ${port}`),
    '-j', 'DNAT', '--to-destination', `127.0.0.1:${targetPort}`,
  ];
}

/** nsenter's command line for a process inside a host (never `ip netns exec`: it remounts /sys). */
export function inHostArgv(host: string, argv: string[]): string[] {
  return ['nsenter', `--net=/var/run/netns/${assertKeelName('host', host)}`, ...argv];
}

/**
 * From `iptables-save` output, the rules carrying this bridge's comment, turned into
 * deletions for one `iptables-restore --noflush` (per table).
 */
export function bridgeRulesCleanup(save: string, bridge: string): { script: string; rules: number } {
  const marker = ruleComment(bridge, '');
  const out: string[] = [];
  let table = '';
  let pending: string[] = [];
  let rules = 0;
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) {
      table = line;
      pending = [];
    } else if (line.startsWith('-A ') && line.includes(marker)) {
      pending.push(`-D${line.slice(2)}`);
    } else if (line === 'COMMIT' && pending.length > 0) {
      out.push(table, ...pending, 'COMMIT');
      rules += pending.length;
      pending = [];
    }
  }
  return { script: out.length ? `${out.join('\n')}\n` : '', rules };
}
