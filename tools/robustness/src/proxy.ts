// A fault-injecting TCP proxy in front of each member's peer port, on loopback. Every
// member's peer URL in --initial-cluster is its proxy, so all Raft traffic passes here.
// A member opens one connection to each peer it sends to, so a connection's sender is
// found once, on accept, by looking its source port up in /proc/net/tcp and the socket's
// inode among the recorded member PIDs' open files. A link (sender → receiver) can then be
// cut (its connections destroyed, new ones refused) or delayed (bytes held back, in order).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import * as net from 'node:net';

export interface LinkRules {
  /** Links cut, as "from>to" member indexes. */
  cut: Set<string>;
  /** Extra one-way latency per link, "from>to" → ms. */
  delayMs: Map<string, number>;
}

interface Conn {
  from: number | undefined;
  to: number;
  client: net.Socket;
  upstream: net.Socket;
}

/** The inode of the loopback socket whose local port is `port` and peer port `peerPort`. */
function socketInode(port: number, peerPort: number): string | undefined {
  const hex = (p: number) => p.toString(16).toUpperCase().padStart(4, '0');
  const local = `:${hex(port)}`;
  const remote = `:${hex(peerPort)}`;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 9 && f[1]!.endsWith(local) && f[2]!.endsWith(remote)) return f[9];
  }
  return undefined;
}

function pidHoldsInode(pid: number, inode: string): boolean {
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return true;
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // process gone
  }
  return false;
}

export class PeerProxies {
  readonly rules: LinkRules = { cut: new Set(), delayMs: new Map() };
  private readonly servers: net.Server[] = [];
  private readonly conns = new Set<Conn>();
  readonly stats = { identified: 0, unidentified: 0, refused: 0 };

  /**
   * @param listenPorts the proxy port of each member
   * @param targetPorts each member's real peer port
   * @param pids the current PID of each member (undefined while it is down)
   */
  constructor(
    private readonly listenPorts: number[],
    private readonly targetPorts: number[],
    private readonly pids: () => (number | undefined)[],
  ) {}

  async start(): Promise<void> {
    for (let to = 0; to < this.listenPorts.length; to++) this.servers.push(await this.listen(to));
  }

  private async listen(to: number): Promise<net.Server> {
    const server = net.createServer((client) => this.accept(client, to));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPorts[to], '127.0.0.1', () => resolve());
    });
    return server;
  }

  /** Moves member `to`'s proxy to a new port (a replaced member has a new peer URL); old connections end. */
  async moveProxy(to: number, port: number): Promise<void> {
    const old = this.servers[to]!;
    await new Promise((r) => old.close(() => r(undefined)));
    for (const c of this.conns) {
      if (c.to === to) {
        c.client.destroy();
        c.upstream.destroy();
      }
    }
    this.listenPorts[to] = port;
    this.servers[to] = await this.listen(to);
  }

  private senderOf(client: net.Socket, to: number): number | undefined {
    const inode = socketInode(client.remotePort!, this.listenPorts[to]!);
    if (!inode) return undefined;
    const pids = this.pids();
    for (let i = 0; i < pids.length; i++) if (pids[i] !== undefined && pidHoldsInode(pids[i]!, inode)) return i;
    return undefined;
  }

  private accept(client: net.Socket, to: number): void {
    const from = this.senderOf(client, to);
    if (from === undefined) this.stats.unidentified++;
    else this.stats.identified++;
    if (from !== undefined && this.rules.cut.has(`${from}>${to}`)) {
      this.stats.refused++;
      client.destroy();
      return;
    }
    const upstream = net.connect(this.targetPorts[to]!, '127.0.0.1');
    const conn: Conn = { from, to, client, upstream };
    this.conns.add(conn);
    const close = () => {
      this.conns.delete(conn);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    this.pipe(client, upstream, from === undefined ? undefined : `${from}>${to}`);
    this.pipe(upstream, client, from === undefined ? undefined : `${to}>${from}`);
  }

  /** Copies bytes, held back by the link's current delay; release times never go back, so order holds. */
  private pipe(src: net.Socket, dst: net.Socket, link: string | undefined): void {
    let releaseAt = 0;
    src.on('data', (chunk: Buffer) => {
      const delay = link ? (this.rules.delayMs.get(link) ?? 0) : 0;
      if (delay === 0 && releaseAt <= performance.now()) {
        dst.write(chunk);
        return;
      }
      releaseAt = Math.max(releaseAt, performance.now() + delay);
      setTimeout(() => dst.destroyed || dst.write(chunk), releaseAt - performance.now());
    });
  }

  /** Cuts both directions between `a` and every member in `others`, and drops their connections. */
  cutBetween(a: number, others: number[]): void {
    for (const b of others) {
      this.rules.cut.add(`${a}>${b}`);
      this.rules.cut.add(`${b}>${a}`);
    }
    for (const c of this.conns) {
      if (c.from !== undefined && this.rules.cut.has(`${c.from}>${c.to}`)) {
        c.client.destroy();
        c.upstream.destroy();
      }
    }
  }

  heal(): void {
    this.rules.cut.clear();
    this.rules.delayMs.clear();
  }

  async close(): Promise<void> {
    for (const c of this.conns) {
      c.client.destroy();
      c.upstream.destroy();
    }
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(() => r(undefined)))));
  }
}
