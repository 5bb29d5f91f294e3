// The node's network state the proxy depends on, and undoing it. The service CIDR is
// routed to a local empty device (a bridge with no ports, keel-svc0, since the dummy link
// type is missing here): the first route lookup of a host → ClusterIP packet then stays on
// the machine, OUTPUT's DNAT rewrites it, and a VIP with no rule yet dies here instead of
// following the default route out. Forwarding and bridge netfilter are switched on. What
// was there before (each sysctl's value, whether the device and route existed) is written
// to a record file first, so cleanup — in this process or a later one — puts it back.
// Routes to the pod CIDRs of other nodes on this machine are kept here too, only ever
// through keel-… links.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ProxyError } from './errors';
import { run, type Target } from './exec';

export interface NodeNetworkOptions extends Target {
  /** The cluster's service CIDR, e.g. 10.96.0.0/16. */
  serviceCidr: string;
  /** The empty device the service CIDR is routed to; must be named keel-…. Default keel-svc0. */
  device?: string;
  /** Where what was changed is recorded (a keel-… path of the caller's). */
  recordFile: string;
  /** Sysctls to set besides ip_forward and bridge-nf-call-iptables (e.g. a link's route_localnet). */
  sysctls?: Record<string, string>;
}

export interface NodeNetworkRecord {
  netns?: string;
  serviceCidr: string;
  device: string;
  deviceCreated: boolean;
  /** Each sysctl we changed and its value before; never overwritten by a later start. */
  sysctls: { key: string; before: string }[];
  /** Routes to other nodes' pod CIDRs that we added (see syncPodRoutes). */
  podRoutes?: PodRoute[];
}

/** Another node's pod CIDR and that node's IP on this machine. */
export interface PodRoute {
  cidr: string;
  via: string;
}

export const DEFAULT_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_forward': '1',
  // pod → ClusterIP → pod on the same bridge is bridged, not routed: its DNAT needs this.
  'net.bridge.bridge-nf-call-iptables': '1',
};

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

/** [first, last] address of an IPv4 CIDR (a bare address is a /32). */
export function cidrRange(cidr: string): [number, number] {
  const [ip, bitsText] = cidr.split('/');
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip ?? '') || !(bits >= 0 && bits <= 32)) throw new ProxyError('Invalid', `not an IPv4 CIDR: ${cidr}`);
  const size = 2 ** (32 - bits);
  const start = Math.floor(ipToInt(ip!) / size) * size;
  return [start, start + size - 1];
}

export function cidrsOverlap(a: string, b: string): boolean {
  const [a0, a1] = cidrRange(a);
  const [b0, b1] = cidrRange(b);
  return a0 <= b1 && b0 <= a1;
}

async function must(target: Target, cmd: string, args: string[]): Promise<string> {
  const res = await run(target, cmd, args);
  if (res.code !== 0) throw new ProxyError('CommandFailed', `${cmd} ${args.join(' ')} failed (${res.code}): ${res.stderr.trim()}`);
  return res.stdout;
}

/** IPv4 routes of every table as destination and device. */
async function routes(target: Target): Promise<{ dst: string; dev: string }[]> {
  const out = await must(target, 'ip', ['-4', 'route', 'show', 'table', 'all']);
  const found: { dst: string; dev: string }[] = [];
  for (const line of out.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (['broadcast', 'multicast', 'anycast'].includes(words[0] ?? '')) continue;
    if (['local', 'unicast', 'unreachable', 'blackhole', 'prohibit', 'throw', 'nat'].includes(words[0] ?? '')) words.shift();
    const dst = words[0];
    if (!dst || dst === 'default') continue;
    const devAt = words.indexOf('dev');
    found.push({ dst, dev: devAt >= 0 ? (words[devAt + 1] ?? '') : '' });
  }
  return found;
}

function readRecord(file: string): NodeNetworkRecord | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as NodeNetworkRecord;
}

function writeRecord(file: string, record: NodeNetworkRecord): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
}

/** Makes the node ready for service rules; answers the record and any warnings. */
export async function prepareNodeNetwork(opts: NodeNetworkOptions): Promise<{ record: NodeNetworkRecord; warnings: string[] }> {
  const target: Target = { netns: opts.netns };
  const device = opts.device ?? 'keel-svc0';
  if (!device.startsWith('keel-')) throw new ProxyError('Invalid', `the service route device must be named keel-…, not ${device}`);
  cidrRange(opts.serviceCidr);
  // A route of someone else's inside the service CIDR would be shadowed (or would steal VIP traffic).
  for (const route of await routes(target)) {
    if (route.dev !== device && cidrsOverlap(route.dst, opts.serviceCidr)) {
      throw new ProxyError('Unsafe', `the service CIDR ${opts.serviceCidr} overlaps the route ${route.dst} on ${route.dev || '?'}`);
    }
  }
  const earlier = readRecord(opts.recordFile);
  const record: NodeNetworkRecord = earlier ?? { netns: opts.netns, serviceCidr: opts.serviceCidr, device, deviceCreated: false, sysctls: [] };
  const warnings: string[] = [];

  const exists = (await run(target, 'ip', ['link', 'show', 'dev', device])).code === 0;
  if (!exists) {
    record.deviceCreated = true;
    writeRecord(opts.recordFile, record);
    await must(target, 'ip', ['link', 'add', device, 'type', 'bridge']);
  }
  await must(target, 'ip', ['link', 'set', device, 'up']);
  await must(target, 'ip', ['route', 'replace', opts.serviceCidr, 'dev', device]);

  for (const [key, value] of Object.entries({ ...DEFAULT_SYSCTLS, ...opts.sysctls })) {
    const read = await run(target, 'sysctl', ['-n', key]);
    if (read.code !== 0) {
      warnings.push(`sysctl ${key} is missing here (${read.stderr.trim()}); not set`);
      continue;
    }
    const before = read.stdout.trim();
    if (before === value) continue;
    // Record before changing, and keep the first run's value across restarts.
    if (!record.sysctls.some((s) => s.key === key)) record.sysctls.push({ key, before });
    writeRecord(opts.recordFile, record);
    await must(target, 'sysctl', ['-w', `${key}=${value}`]);
  }
  writeRecord(opts.recordFile, record);
  return { record, warnings };
}

/**
 * Makes the routes to other nodes' pod CIDRs exactly `wanted`: adds the missing, removes
 * the ones we added that are no longer wanted, and records them for cleanup. A route is
 * only ever added through a keel-… link (a node on this machine), so pod traffic for a
 * CIDR never follows a route out of the machine; anything else is refused.
 */
export async function syncPodRoutes(recordFile: string, wanted: readonly PodRoute[]): Promise<{ added: PodRoute[]; removed: PodRoute[] }> {
  const record = readRecord(recordFile);
  if (!record) throw new ProxyError('Invalid', `no node network record at ${recordFile}: prepare the node first`);
  const target: Target = { netns: record.netns };
  const have = record.podRoutes ?? [];
  const same = (a: PodRoute, b: PodRoute) => a.cidr === b.cidr && a.via === b.via;
  const added: PodRoute[] = [];
  const removed: PodRoute[] = [];
  const existing = await routes(target);
  for (const route of wanted) {
    if (have.some((h) => same(h, route))) continue;
    cidrRange(route.cidr);
    const clash = existing.find((r) => cidrsOverlap(r.dst, route.cidr) && !have.some((h) => h.cidr === r.dst));
    if (clash) throw new ProxyError('Unsafe', `pod CIDR ${route.cidr} overlaps the route ${clash.dst} on ${clash.dev || '?'}`);
    const get = await run(target, 'ip', ['-4', 'route', 'get', route.via]);
    const dev = /\bdev (\S+)/.exec(get.stdout)?.[1];
    if (get.code !== 0 || !dev?.startsWith('keel-')) {
      throw new ProxyError('Unsafe', `node ${route.via} is not reached through a keel-… link (${dev ?? get.stderr.trim()}); no route to ${route.cidr} through it`);
    }
    record.podRoutes = [...(record.podRoutes ?? []), route];
    writeRecord(recordFile, record);
    await must(target, 'ip', ['route', 'replace', route.cidr, 'via', route.via, 'dev', dev]);
    added.push(route);
  }
  for (const route of have) {
    if (wanted.some((w) => same(w, route))) continue;
    await run(target, 'ip', ['route', 'del', route.cidr, 'via', route.via]);
    record.podRoutes = (record.podRoutes ?? []).filter((r) => !same(r, route));
    writeRecord(recordFile, record);
    removed.push(route);
  }
  return { added, removed };
}

/** Undoes prepareNodeNetwork from its record file; answers what it undid. */
export async function restoreNodeNetwork(recordFile: string): Promise<string[]> {
  const record = readRecord(recordFile);
  if (!record) return [];
  const target: Target = { netns: record.netns };
  const undone: string[] = [];
  for (const route of record.podRoutes ?? []) {
    if ((await run(target, 'ip', ['route', 'del', route.cidr, 'via', route.via])).code === 0) undone.push(`route ${route.cidr} via ${route.via}`);
  }
  for (const { key, before } of [...record.sysctls].reverse()) {
    await must(target, 'sysctl', ['-w', `${key}=${before}`]);
    undone.push(`${key}=${before}`);
  }
  // Deleting the device takes its route with it; a device we found we leave, minus our route.
  if (record.deviceCreated) {
    if ((await run(target, 'ip', ['link', 'del', 'dev', record.device])).code === 0) undone.push(`link ${record.device}`);
  } else if ((await run(target, 'ip', ['route', 'del', record.serviceCidr, 'dev', record.device])).code === 0) {
    undone.push(`route ${record.serviceCidr}`);
  }
  rmSync(recordFile, { force: true });
  return undone;
}
