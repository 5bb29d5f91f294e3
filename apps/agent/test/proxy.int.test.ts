// Integration: the proxy on real iptables (nf_tables), inside network namespaces this test
// creates and deletes — never the host's own tables. A "node" namespace holds a pod bridge
// (keel-pbr0) with two "pod" namespaces on it, each running a tiny TCP and UDP server that
// answers its own name, and a veth to a "client" namespace standing for the outside world.
// The proxy runs in the node namespace through nsenter, as the agent would for a node on
// this machine. Every address lives only inside these namespaces.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { service, slice } from '../src/proxy/fixtures';
import { serviceChain } from '../src/proxy/names';
import { JUMPS } from '../src/proxy/rules';
import { cleanupProxy, MemorySource, startProxy, type RunningProxy } from '../src/proxy/run';

const tag = process.pid % 100_000;
const ns = { node: `keel-pxn-${tag}`, a: `keel-pxa-${tag}`, b: `keel-pxb-${tag}`, client: `keel-pxc-${tag}` };
const work = mkdtempSync(join(tmpdir(), 'keel-proxy-test-'));
const recordFile = join(work, 'keel-proxy-node.json');
const NODE_IP = '192.168.77.1';
const POD = { a: '10.244.77.10', b: '10.244.77.11' };
const servers: ChildProcess[] = [];
let proxy: RunningProxy | undefined;
let source: MemorySource;

const sh = (args: string[]) => execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const inNs = (name: string, args: string[]) => sh(['nsenter', `--net=/var/run/netns/${name}`, ...args]);

/** A server answering its name over TCP 8080 and UDP 5353, run inside a pod namespace. */
const SERVER = `
const name = process.argv[1];
require('net').createServer((s) => s.end(name + '\\n')).listen(8080, '0.0.0.0');
const u = require('dgram').createSocket('udp4');
u.on('message', (m, from) => u.send(name, from.port, from.address));
u.bind(5353, '0.0.0.0');
`;

/** n sequential TCP connections; prints {answer: count} with errors by code. */
const TCP_CLIENT = `
const [host, port, n] = process.argv.slice(1);
const seen = {};
const once = () => new Promise((done) => {
  let text = '';
  const s = require('net').connect({ host, port: Number(port) });
  s.setTimeout(1500, () => { s.destroy(); done('TIMEOUT'); });
  s.on('data', (d) => (text += d));
  s.on('end', () => done(text.trim()));
  s.on('error', (e) => done(e.code));
});
(async () => {
  for (let i = 0; i < Number(n); i++) { const a = await once(); seen[a] = (seen[a] || 0) + 1; }
  console.log(JSON.stringify(seen));
})();
`;

/** One UDP datagram from a fixed source port; prints the answer or TIMEOUT. */
const UDP_CLIENT = `
const [host, port, from] = process.argv.slice(1);
const u = require('dgram').createSocket('udp4');
const t = setTimeout(() => { console.log('TIMEOUT'); process.exit(0); }, 1500);
u.on('message', (m) => { clearTimeout(t); console.log(String(m)); process.exit(0); });
u.bind(Number(from), () => u.send('hi', Number(port), host));
`;

function tcp(from: string, host: string, port: number, n = 1): Record<string, number> {
  return JSON.parse(inNs(from, [process.execPath, '-e', TCP_CLIENT, host, String(port), String(n)])) as Record<string, number>;
}

function udp(from: string, host: string, port: number, sourcePort: number): string {
  return inNs(from, [process.execPath, '-e', UDP_CLIENT, host, String(port), String(sourcePort)]).trim();
}

const natSave = () => inNs(ns.node, ['iptables-save']);
const sysctl = (key: string) => inNs(ns.node, ['sysctl', '-n', key]).trim();

function deleteAllNamespaces(): void {
  for (const name of Object.values(ns)) {
    try {
      sh(['ip', 'netns', 'del', name]);
    } catch {
      // not created (or already gone)
    }
  }
}

async function settle(): Promise<void> {
  await proxy!.proxier.idle();
}

const webSvc = (extra: Partial<Parameters<typeof service>[3]> = {}) =>
  service('web', '10.96.0.10', [{ name: 'http', port: 80, targetPort: 'http', nodePort: 30080 }], { type: 'NodePort', ...extra });
const webSlice = (ips: string[]) => slice('web', ips, [{ name: 'http', port: 8080 }]);

let before: { forward: string; bridgeNf: string; localnet: string };

beforeAll(async () => {
  deleteAllNamespaces();
  for (const name of Object.values(ns)) sh(['ip', 'netns', 'add', name]);
  for (const name of Object.values(ns)) sh(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  sh(['ip', '-n', ns.node, 'link', 'add', 'keel-pbr0', 'type', 'bridge']);
  sh(['ip', '-n', ns.node, 'addr', 'add', '10.244.77.1/24', 'dev', 'keel-pbr0']);
  sh(['ip', '-n', ns.node, 'link', 'set', 'keel-pbr0', 'up']);
  for (const [pod, ip] of [['a', POD.a], ['b', POD.b]] as const) {
    const port = `keel-v${pod}`;
    // Created inside the namespaces: nothing appears in the host's own network, even briefly.
    sh(['ip', '-n', ns.node, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns[pod]]);
    sh(['ip', '-n', ns.node, 'link', 'set', port, 'master', 'keel-pbr0']);
    sh(['ip', '-n', ns.node, 'link', 'set', port, 'type', 'bridge_slave', 'hairpin', 'on']);
    sh(['ip', '-n', ns.node, 'link', 'set', port, 'up']);
    sh(['ip', '-n', ns[pod], 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    sh(['ip', '-n', ns[pod], 'link', 'set', 'eth0', 'up']);
    sh(['ip', '-n', ns[pod], 'route', 'add', 'default', 'via', '10.244.77.1']);
    const server = spawn('nsenter', [`--net=/var/run/netns/${ns[pod]}`, process.execPath, '-e', SERVER, `pod-${pod}`], { stdio: 'ignore' });
    servers.push(server);
  }
  sh(['ip', '-n', ns.node, 'link', 'add', 'keel-vc', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.client]);
  sh(['ip', '-n', ns.node, 'addr', 'add', `${NODE_IP}/24`, 'dev', 'keel-vc']);
  sh(['ip', '-n', ns.node, 'link', 'set', 'keel-vc', 'up']);
  sh(['ip', '-n', ns.client, 'addr', 'add', '192.168.77.2/24', 'dev', 'eth0']);
  sh(['ip', '-n', ns.client, 'link', 'set', 'eth0', 'up']);
  before = {
    forward: sysctl('net.ipv4.ip_forward'),
    bridgeNf: sysctl('net.bridge.bridge-nf-call-iptables'),
    localnet: sysctl('net.ipv4.conf.all.route_localnet'),
  };

  // Servers are up when the node reaches both pods directly.
  for (let i = 0; i < 100; i++) {
    if (tcp(ns.node, POD.a, 8080)['pod-a'] && tcp(ns.node, POD.b, 8080)['pod-b']) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  source = new MemorySource(
    [webSvc(), service('empty', '10.96.0.20', [{ name: 'http', port: 80, targetPort: 8080 }])],
    [webSlice([POD.a, POD.b])],
  );
  proxy = await startProxy({
    source,
    netns: ns.node,
    serviceCidr: '10.96.0.0/16',
    nodeIps: [NODE_IP, '127.0.0.1'],
    podBridges: ['keel-pbr0'],
    clusterCidr: '10.244.77.0/24',
    recordFile,
    minSyncIntervalMs: 10,
  });
  await settle();
}, 60_000);

afterAll(async () => {
  try {
    await proxy?.stop({ cleanup: true });
  } catch {
    // the namespaces go below, and everything in them with them
  }
  for (const s of servers) if (s.pid) process.kill(s.pid, 'SIGKILL');
  deleteAllNamespaces();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('proxy on real iptables in a node namespace', () => {
  it('refuses to masquerade out of a link that is not ours, before touching anything', async () => {
    await expect(
      startProxy({ source: new MemorySource(), netns: ns.node, serviceCidr: '10.97.0.0/16', nodeIps: [], podBridges: ['eth0'], recordFile: join(work, 'keel-other.json') }),
    ).rejects.toMatchObject({ name: 'ProxyError', code: 'Invalid' });
    expect(inNs(ns.node, ['ip', 'route'])).not.toContain('10.97.0.0/16');
  });

  it('prepares the node: service CIDR to keel-svc0, forwarding and bridge netfilter on, jumps in place', () => {
    expect(inNs(ns.node, ['ip', 'route', 'get', '10.96.200.1'])).toContain('dev keel-svc0');
    expect(sysctl('net.ipv4.ip_forward')).toBe('1');
    expect(sysctl('net.bridge.bridge-nf-call-iptables')).toBe('1');
    // A node port on 127.0.0.1 is DNATed to a pod only with route_localnet.
    expect(sysctl('net.ipv4.conf.all.route_localnet')).toBe('1');
    const save = natSave();
    expect(save).toContain('-A PREROUTING -m comment --comment "keel service portals" -j KEEL-SERVICES');
    expect(save).toContain('-A OUTPUT -m comment --comment "keel service portals" -j KEEL-SERVICES');
    expect(save).toContain('-A POSTROUTING -m comment --comment "keel postrouting rules" -j KEEL-POSTROUTING');
    // What iptables stores and prints back is the probability as we wrote it.
    expect(save).toContain('--probability 0.50000000000');
    expect(proxy!.proxier.metrics.syncs.full).toBe(1);
  });

  it('node → cluster IP reaches both endpoints', () => {
    const seen = tcp(ns.node, '10.96.0.10', 80, 40);
    expect(Object.keys(seen).sort()).toEqual(['pod-a', 'pod-b']);
  });

  it('pod → cluster IP reaches both endpoints, itself included (hairpin)', () => {
    expect(Object.keys(tcp(ns.a, '10.96.0.10', 80, 40)).sort()).toEqual(['pod-a', 'pod-b']);
    expect(Object.keys(tcp(ns.b, '10.96.0.10', 80, 40)).sort()).toEqual(['pod-a', 'pod-b']);
  });

  it('node port answers on the node IP, from outside and from the node itself, and on 127.0.0.1', () => {
    expect(Object.keys(tcp(ns.client, NODE_IP, 30080, 40)).sort()).toEqual(['pod-a', 'pod-b']);
    expect(Object.keys(tcp(ns.node, NODE_IP, 30080, 40)).sort()).toEqual(['pod-a', 'pod-b']);
    expect(Object.keys(tcp(ns.node, '127.0.0.1', 30080, 40)).sort()).toEqual(['pod-a', 'pod-b']);
  });

  it('a service with no endpoints is rejected at once, from the node and from a pod', () => {
    expect(tcp(ns.node, '10.96.0.20', 80, 3)).toEqual({ ECONNREFUSED: 3 });
    expect(tcp(ns.a, '10.96.0.20', 80, 3)).toEqual({ ECONNREFUSED: 3 });
  });

  it('a cluster IP with no rule stays on the machine (routed to the empty keel-svc0)', () => {
    expect(inNs(ns.a, ['ip', 'route', 'get', '10.96.9.9'])).toContain('via 10.244.77.1');
    expect(inNs(ns.node, ['ip', 'route', 'get', '10.96.9.9'])).toContain('dev keel-svc0');
    expect(tcp(ns.node, '10.96.9.9', 80, 1)).not.toHaveProperty('pod-a');
  });

  it('hairpin alone: a pod reaching itself as the only endpoint', async () => {
    source.service('upsert', service('self', '10.96.0.30', [{ name: 'http', port: 80, targetPort: 8080 }]));
    source.endpointSlice('upsert', slice('self', [POD.a], [{ name: 'http', port: 8080 }]));
    await settle();
    expect(tcp(ns.a, '10.96.0.30', 80, 5)).toEqual({ 'pod-a': 5 });
  });

  it('session affinity ClientIP keeps a client on one endpoint', async () => {
    source.service('upsert', service('sticky', '10.96.0.40', [{ name: 'http', port: 80, targetPort: 8080 }], { sessionAffinity: 'ClientIP' }));
    source.endpointSlice('upsert', slice('sticky', [POD.a, POD.b], [{ name: 'http', port: 8080 }]));
    await settle();
    expect(Object.values(tcp(ns.node, '10.96.0.40', 80, 20))).toEqual([20]);
  });

  it('removing an endpoint stops traffic to it, with a partial sync of the changed chains only', async () => {
    const fullBefore = proxy!.proxier.metrics.syncs.full;
    source.endpointSlice('upsert', webSlice([POD.a]));
    await settle();
    expect(proxy!.proxier.metrics.syncs.full).toBe(fullBefore);
    // The service chain is rewritten and pod-b's endpoint chain deleted; nothing else.
    expect(proxy!.proxier.metrics.lastPartial).toMatchObject({ chainsWritten: 1, chainsDeleted: 1 });
    expect(tcp(ns.node, '10.96.0.10', 80, 30)).toEqual({ 'pod-a': 30 });
    expect(tcp(ns.client, NODE_IP, 30080, 10)).toEqual({ 'pod-a': 10 });
    source.endpointSlice('upsert', webSlice([POD.a, POD.b]));
    await settle();
    expect(Object.keys(tcp(ns.node, '10.96.0.10', 80, 40)).sort()).toEqual(['pod-a', 'pod-b']);
  });

  it('UDP: a flow moves to the new endpoint when its endpoint goes (stale conntrack removed)', async () => {
    const dns = service('dns', '10.96.0.53', [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 }]);
    source.service('upsert', dns);
    source.endpointSlice('upsert', slice('dns', [POD.a], [{ name: 'dns', port: 5353, protocol: 'UDP' }]));
    await settle();
    expect(udp(ns.node, '10.96.0.53', 53, 40053)).toBe('pod-a');
    expect(udp(ns.node, '10.96.0.53', 53, 40053)).toBe('pod-a');
    source.endpointSlice('upsert', slice('dns', [POD.b], [{ name: 'dns', port: 5353, protocol: 'UDP' }]));
    await settle();
    expect(proxy!.proxier.metrics.lastPartial?.conntrackDeletions).toBe(1);
    // Same source port: without the conntrack deletion this flow would still go to pod-a.
    expect(udp(ns.node, '10.96.0.53', 53, 40053)).toBe('pod-b');
  });

  it('what iptables-save shows is exactly what we wrote: a full resync rewrites nothing', async () => {
    expect(await proxy!.proxier.sync({ full: true })).toMatchObject({ chainsWritten: 0, chainsDeleted: 0 });
    // And /metrics counts what the kernel holds: the rules and chains of ours, per table.
    const text = proxy!.proxier.metricsText();
    for (const table of ['nat', 'filter']) {
      const ours = inNs(ns.node, ['iptables-save', '-t', table]).split('\n');
      expect(text).toContain(`keel_proxy_iptables_rules{table="${table}"} ${ours.filter((l) => l.startsWith('-A KEEL-')).length}\n`);
      expect(text).toContain(`keel_proxy_iptables_chains{table="${table}"} ${ours.filter((l) => l.startsWith(':KEEL-')).length}\n`);
    }
    expect(text).toMatch(/^keel_proxy_sync_proxy_rules_duration_seconds_count\{kind="full"\} [2-9]\d*$/m);
  });

  it('a full resync repairs chains changed behind our back', async () => {
    const svcChain = serviceChain('default/web:http', 'TCP');
    inNs(ns.node, ['iptables', '-w', '-t', 'nat', '-F', svcChain]);
    inNs(ns.node, ['iptables', '-w', '-t', 'nat', '-D', 'OUTPUT', '-m', 'comment', '--comment', 'keel service portals', '-j', 'KEEL-SERVICES']);
    expect(await proxy!.proxier.sync({ full: true })).toMatchObject({ chainsWritten: 1 });
    expect(Object.keys(tcp(ns.a, '10.96.0.10', 80, 40)).sort()).toEqual(['pod-a', 'pod-b']);
    // The OUTPUT jump is back: the node itself reaches the cluster IP again.
    expect(Object.keys(tcp(ns.node, '10.96.0.10', 80, 40)).sort()).toEqual(['pod-a', 'pod-b']);
    // One jump per built-in chain and target: a full sync re-inserts only missing ones.
    const jumps = natSave().split('\n').filter((l) => /^-A (PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) .* -j KEEL-/.test(l));
    expect(jumps).toHaveLength(JUMPS.length);
  });

  it('routes other nodes’ pod CIDRs only through keel-… links, and takes them away again', async () => {
    // 192.168.77.2 (the client namespace) stands for another node on this machine.
    expect(await proxy!.setPodRoutes([{ cidr: '10.244.78.0/24', via: '192.168.77.2' }])).toMatchObject({ added: [{ cidr: '10.244.78.0/24' }] });
    expect(inNs(ns.node, ['ip', 'route', 'get', '10.244.78.5'])).toContain('via 192.168.77.2 dev keel-vc');
    await expect(proxy!.setPodRoutes([{ cidr: '10.244.79.0/24', via: '10.9.9.9' }])).rejects.toMatchObject({ code: 'Unsafe' });
    await expect(proxy!.setPodRoutes([{ cidr: '10.244.77.0/25', via: '192.168.77.2' }])).rejects.toMatchObject({ code: 'Unsafe' });
    expect(inNs(ns.node, ['ip', 'route'])).not.toContain('10.244.79.0/24');
    expect(await proxy!.setPodRoutes([])).toMatchObject({ removed: [{ cidr: '10.244.78.0/24' }] });
    expect(inNs(ns.node, ['ip', 'route'])).not.toContain('10.244.78.0/24');
    await proxy!.setPodRoutes([{ cidr: '10.244.78.0/24', via: '192.168.77.2' }]);
  });

  it('cleanup removes every chain, rule, route and device it made and restores the sysctls', async () => {
    const removed = await proxy!.stop({ cleanup: true });
    proxy = undefined;
    expect(removed).toContain('nat KEEL-SERVICES');
    expect(natSave()).not.toMatch(/KEEL/);
    expect(sysctl('net.ipv4.ip_forward')).toBe(before.forward);
    expect(sysctl('net.bridge.bridge-nf-call-iptables')).toBe(before.bridgeNf);
    expect(sysctl('net.ipv4.conf.all.route_localnet')).toBe(before.localnet);
    expect(() => inNs(ns.node, ['ip', 'link', 'show', 'keel-svc0'])).toThrow();
    expect(inNs(ns.node, ['ip', 'route'])).not.toContain('10.96.0.0/16');
    expect(inNs(ns.node, ['ip', 'route'])).not.toContain('10.244.78.0/24');
    // Cleaning twice (say, a later process) finds nothing left to do.
    expect(await cleanupProxy({ netns: ns.node, recordFile })).toEqual([]);
    expect(tcp(ns.node, '10.96.0.10', 80, 1)).not.toHaveProperty('pod-a');
  });
});
