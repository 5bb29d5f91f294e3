// Two hosts on a keel-… bridge, for real: namespaces, veth pair, addresses, routes, a
// daemon inside a host, a root loopback port published to the hosts, and a teardown that
// leaves no link, namespace or rule behind. Subnet 10.242.250.0/24 (this lib's tests only).
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addEgressGuard,
  addHost,
  addRoute,
  ensureBridge,
  hostExists,
  linkExists,
  pidsInHost,
  publishLoopbackPort,
  removeBridge,
  removeHost,
  removeRoute,
  runInHost,
  startInHost,
  stopInHost,
  vethName,
  type Bridge,
} from '../src/index';
import { run } from '../src/exec';

const BRIDGE = 'keel-htest0';
const SUBNET = '10.242.250.0/24';
const HOSTS = ['keel-htest-a', 'keel-htest-b'] as const;

const ping = (host: string, ip: string) => runInHost(host, 'busybox', ['ping', '-c', '1', '-W', '2', ip]);

async function iptablesSave(): Promise<string> {
  return (await run({ cmd: 'iptables-save', args: [] })).stdout;
}

describe('hosts on one machine', () => {
  let bridge: Bridge;
  let work: string;
  let server: Server;
  let port = 0;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'keel-hosts-'));
    server = createServer((_req, res) => res.end('from the root side\n'));
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const h of HOSTS) await removeHost(h, { kill: true }).catch(() => undefined);
    await removeBridge(BRIDGE).catch(() => undefined);
    await new Promise((ok) => server.close(ok));
    rmSync(work, { recursive: true, force: true });
  });

  it('creates a bridge and two hosts, idempotently', async () => {
    bridge = await ensureBridge({ name: BRIDGE, subnet: SUBNET });
    expect(bridge.gateway).toBe('10.242.250.1');
    await ensureBridge({ name: BRIDGE, subnet: SUBNET });
    await addHost({ name: HOSTS[0], bridge, address: '10.242.250.11' });
    await addHost({ name: HOSTS[1], bridge, address: '10.242.250.12' });
    await addHost({ name: HOSTS[1], bridge, address: '10.242.250.12' });
    expect(hostExists(HOSTS[0])).toBe(true);
    // Only the bridge subnet is routed inside a host: no default route out of the machine.
    const routes = (await runInHost(HOSTS[0], 'ip', ['-4', 'route', 'show'])).stdout.trim().split('\n');
    expect(routes).toEqual([expect.stringMatching(/^10\.242\.250\.0\/24 dev keel-eth0 /)]);
    const save = await iptablesSave();
    expect(save).toContain(`-A FORWARD -s ${SUBNET} ! -o keel-+`);
  });

  it('lets the hosts ping each other and the gateway', async () => {
    expect((await ping(HOSTS[0], '10.242.250.12')).code).toBe(0);
    expect((await ping(HOSTS[1], '10.242.250.11')).code).toBe(0);
    expect((await ping(HOSTS[0], bridge.gateway)).code).toBe(0);
    // Nothing outside the machine is reachable from a host.
    const out = await ping(HOSTS[0], '192.0.2.1');
    expect(out.code).not.toBe(0);
    expect(out.stdout + out.stderr).toMatch(/unreachable|Network/i);
  });

  it('routes a range through another host, and removes the route', async () => {
    // Host b answers for 10.242.251.7 on its lo; host a reaches it via b's bridge address.
    await runInHost(HOSTS[1], 'ip', ['addr', 'add', '10.242.251.7/32', 'dev', 'lo']);
    await addRoute({ host: HOSTS[0], dst: '10.242.251.0/24', via: '10.242.250.12' });
    await addRoute({ dst: '10.242.251.0/24', via: '10.242.250.12', dev: BRIDGE });
    await addEgressGuard(BRIDGE, '10.242.251.0/24');
    expect((await ping(HOSTS[0], '10.242.251.7')).code).toBe(0);
    expect((await run({ cmd: 'busybox', args: ['ping', '-c', '1', '-W', '2', '10.242.251.7'] })).code).toBe(0);
    expect(await removeRoute({ host: HOSTS[0], dst: '10.242.251.0/24', via: '10.242.250.12' })).toBe(true);
    expect(await removeRoute({ dst: '10.242.251.0/24', via: '10.242.250.12', dev: BRIDGE })).toBe(true);
    expect((await ping(HOSTS[0], '10.242.251.7')).code).not.toBe(0);
  });

  it('publishes a root loopback port to the hosts at the gateway', async () => {
    await publishLoopbackPort(bridge, port);
    const res = await runInHost(HOSTS[0], 'busybox', ['wget', '-q', '-O', '-', `http://${bridge.gateway}:${port}/`]);
    expect(res.stdout).toBe('from the root side\n');
  });

  it('runs a daemon inside a host, lists it, and refuses to remove a busy host', async () => {
    const pidFile = join(work, 'keel-d', 'httpd.pid');
    writeFileSync(join(work, 'index.html'), 'hi\n');
    const daemon = await startInHost(HOSTS[1], {
      argv: ['busybox', 'httpd', '-f', '-p', '10.242.250.12:8080', '-h', work],
      pidFile,
      logFile: join(work, 'keel-d', 'httpd.log'),
      ready: async () => (await runInHost(HOSTS[0], 'busybox', ['wget', '-q', '-O', '-', 'http://10.242.250.12:8080/index.html'])).stdout === 'hi\n',
    });
    expect(pidsInHost(HOSTS[1])).toContain(daemon.pid);
    expect(pidsInHost(HOSTS[0])).not.toContain(daemon.pid);
    await expect(removeHost(HOSTS[1])).rejects.toThrow(/still runs PIDs/);
    expect(await stopInHost(pidFile)).toBe(true);
    expect(pidsInHost(HOSTS[1])).toEqual([]);
  });

  it('tears down to nothing', async () => {
    const guarded = pidsInHost(HOSTS[0]);
    expect(guarded).toEqual([]);
    for (const h of HOSTS) await removeHost(h, { kill: true });
    for (const h of HOSTS) await removeHost(h);
    const removed = await removeBridge(BRIDGE);
    expect(removed.rules).toBe(4);
    expect(await removeBridge(BRIDGE)).toEqual({ rules: 0, link: false });
    for (const h of HOSTS) {
      expect(hostExists(h)).toBe(false);
      expect(await linkExists(vethName(h))).toBe(false);
    }
    expect(await linkExists(BRIDGE)).toBe(false);
    expect(await iptablesSave()).not.toContain(BRIDGE);
  });
});
