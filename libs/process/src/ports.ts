// Free loopback ports for tests and tools that must not collide with each other or with a
// running development cluster.
//
// Ports come from below the kernel's ephemeral range (net.ipv4.ip_local_port_range), never
// from `listen(0)`. A port from the ephemeral range is also the pool every outgoing
// connection on the machine draws its local port from: while a member that owns such a
// port is down (killed, restarting), its peers' reconnect loop can self-connect to it
// (TCP simultaneous open, when the kernel picks the very port being dialled as the source)
// or another process's connection can take it, and the member's restart then fails with
// EADDRINUSE. Below the range, only an explicit bind can take a port.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The lowest port handed out; below it live the well-known and registered services people run. */
const FLOOR = 20_000;
/**
 * The highest: below Kubernetes' NodePort range (30000-32767), which the cluster's Service
 * rules capture on every local address, so no component may listen there.
 */
const CEILING = 29_999;
/** Fewer candidate ports than this below the ephemeral range, and the kernel's own choice is used. */
const MIN_SPAN = 2_000;

/** Ports this process already handed out, so two calls never return the same one. */
const handedOut = new Set<number>();

/** The first port of the kernel's ephemeral range, from /proc; 32768 (Linux's default) if unreadable. */
export function ephemeralRangeStart(rangeFile = '/proc/sys/net/ipv4/ip_local_port_range'): number {
  try {
    const low = Number(readFileSync(rangeFile, 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** Whether `host:port` can be listened on right now (the probe's socket is closed before returning). */
function canListen(host: string, port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((answer) => {
    server.once('error', () => answer(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => answer(true)));
  });
}

async function kernelPort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, host, ok);
  });
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

/**
 * A TCP port on `host` (127.0.0.1 unless told) that was free a moment ago, below the
 * ephemeral range and the NodePort range, and not handed out before by this process. `random` is injectable for tests.
 */
export async function freeLoopbackPort(host = '127.0.0.1', random: () => number = Math.random): Promise<number> {
  const high = Math.min(CEILING, ephemeralRangeStart() - 1);
  if (high - FLOOR + 1 < MIN_SPAN) return kernelPort(host);
  if (handedOut.size > (high - FLOOR) / 2) handedOut.clear(); // a long-lived process: forget the oldest round
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = FLOOR + Math.floor(random() * (high - FLOOR + 1));
    if (handedOut.has(port)) continue;
    if (await canListen(host, port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port on ${host} between ${FLOOR} and ${high} after 500 tries`);
}

/** `count` distinct free loopback ports. */
export async function freeLoopbackPorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) ports.push(await freeLoopbackPort(host));
  return ports;
}
