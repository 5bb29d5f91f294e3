// A 3-member keel-store whose peer links all pass through PeerProxies: each member listens
// for peers on its own port but advertises its proxy's, so the proxies see every Raft
// message. Members are started, killed, paused (SIGSTOP) and resumed (SIGCONT) only by the
// PIDs recorded in their pid files; `cleanup` resumes every paused member before stopping.
import { bundleStore } from '@keel/tools-store';
import { freeLoopbackPort, freeLoopbackPorts, httpAnswers, killDaemon, runningDaemon, startDaemon, stopDaemon } from '@keel/process';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PeerProxies } from './proxy';

export interface ProxiedMember {
  name: string;
  clientPort: number;
  peerPort: number;
  proxyPort: number;
  metricsPort: number;
  dataDir: string;
  pidFile: string;
  logFile: string;
  endpoint: string;
  state: 'new' | 'existing';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function etcdctl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('etcdctl', ['--command-timeout=5s', ...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 10_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`etcdctl ${args.slice(1).join(' ')}: ${(stderr || err.message).trim()}`)) : resolve(stdout),
    ),
  );
}

export class ProxiedCluster {
  readonly paused = new Set<number>();
  readonly down = new Set<number>();
  private constructor(
    readonly work: string,
    readonly members: ProxiedMember[],
    readonly proxies: PeerProxies,
    private readonly script: string,
    private readonly removeBundle: () => void,
  ) {}

  /**
   * Starts the cluster; tries again with fresh ports when a member fails to start, because a
   * port found free can be taken before the member binds it (another process's connection).
   */
  static async start(size: number, attempts = 3): Promise<ProxiedCluster> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await ProxiedCluster.startOnce(size);
      } catch (err) {
        if (attempt >= attempts) throw err;
        process.stderr.write(`robustness: cluster start failed, trying again: ${(err as Error).message.split('\n').slice(0, 6).join(' | ')}\n`);
      }
    }
  }

  private static async startOnce(size: number): Promise<ProxiedCluster> {
    const work = mkdtempSync(join(tmpdir(), 'keel-robustness-'));
    const { script, remove } = await bundleStore();
    const members: ProxiedMember[] = [];
    for (let i = 0; i < size; i++) {
      const [clientPort, peerPort, proxyPort, metricsPort] = await freeLoopbackPorts(4);
      const dir = join(work, `keel-m${i}`);
      members.push({
        name: `m${i}`,
        clientPort: clientPort!,
        peerPort: peerPort!,
        proxyPort: proxyPort!,
        metricsPort: metricsPort!,
        dataDir: join(dir, 'data'),
        pidFile: join(dir, 'keel-store.pid'),
        logFile: join(dir, 'keel-store.log'),
        endpoint: `127.0.0.1:${clientPort}`,
        state: 'new',
      });
    }
    const proxies = new PeerProxies(
      members.map((m) => m.proxyPort),
      members.map((m) => m.peerPort),
      () => members.map((m) => runningDaemon(m.pidFile)?.pid),
    );
    const cluster = new ProxiedCluster(work, members, proxies, script, remove);
    try {
      await proxies.start();
      await Promise.all(members.map((_, i) => cluster.startMember(i)));
      await cluster.waitHealthy(30_000);
    } catch (err) {
      await cluster.cleanup();
      throw err;
    }
    return cluster;
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.endpoint);
  }

  pid(i: number): number | undefined {
    return runningDaemon(this.members[i]!.pidFile)?.pid;
  }

  async startMember(i: number): Promise<void> {
    const m = this.members[i]!;
    const initialCluster = this.members.map((x) => `${x.name}=http://127.0.0.1:${x.proxyPort}`).join(',');
    await startDaemon({
      argv: [
        process.execPath,
        this.script,
        `--name=${m.name}`,
        `--data-dir=${m.dataDir}`,
        `--listen-client-urls=http://${m.endpoint}`,
        `--listen-peer-urls=http://127.0.0.1:${m.peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${m.proxyPort}`,
        `--listen-metrics-urls=http://127.0.0.1:${m.metricsPort}`,
        `--initial-cluster=${initialCluster}`,
        `--initial-cluster-state=${m.state}`,
        '--log-level=info',
      ],
      pidFile: m.pidFile,
      logFile: m.logFile,
      ready: () => httpAnswers(`http://127.0.0.1:${m.metricsPort}/metrics`),
      readyTimeoutMs: 20_000,
    });
    this.down.delete(i);
  }

  async kill(i: number): Promise<void> {
    this.resume(i);
    await killDaemon(this.members[i]!.pidFile);
    this.down.add(i);
  }

  /** SIGSTOP by the recorded PID. */
  pause(i: number): void {
    const pid = this.pid(i);
    if (pid === undefined) return;
    process.kill(pid, 'SIGSTOP');
    this.paused.add(i);
  }

  resume(i: number): void {
    if (!this.paused.has(i)) return;
    const pid = this.pid(i);
    if (pid !== undefined) process.kill(pid, 'SIGCONT');
    this.paused.delete(i);
  }

  /**
   * Replaces member `i` by a fresh one, as etcd's robustness suite does: MemberRemove, stop,
   * wipe its data, MemberAdd under a new peer URL (a new proxy port, so a new member ID), start
   * with --initial-cluster-state existing. It keeps the client port, so clients reconnect.
   */
  async replace(i: number, idHex: string, generation: number): Promise<void> {
    const others = this.members.filter((_, j) => j !== i).map((m) => m.endpoint).join(',');
    await etcdctl([`--endpoints=${others}`, 'member', 'remove', idHex]);
    const m = this.members[i]!;
    this.resume(i);
    await stopDaemon(m.pidFile, 3000);
    this.down.add(i);
    rmSync(m.dataDir, { recursive: true, force: true });
    const proxyPort = await freeLoopbackPort();
    await this.proxies.moveProxy(i, proxyPort);
    m.name = `m${i}g${generation}`;
    m.proxyPort = proxyPort;
    m.state = 'existing';
    await etcdctl([`--endpoints=${others}`, 'member', 'add', m.name, `--peer-urls=http://127.0.0.1:${proxyPort}`]);
    await this.startMember(i);
  }

  /** Until every member's /health says it has a leader. */
  async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const m of this.members) {
      while (!(await httpAnswers(`http://127.0.0.1:${m.metricsPort}/health`))) {
        if (Date.now() > deadline) throw new Error(`keel-store ${m.name} has no leader after ${timeoutMs} ms`);
        await sleep(50);
      }
    }
  }

  /** Resumes paused members first (a stopped process cannot take SIGTERM), then stops all. */
  async cleanup(): Promise<void> {
    for (const i of [...this.paused]) {
      try {
        this.resume(i);
      } catch {
        // gone already
      }
    }
    await Promise.all(this.members.map((m) => stopDaemon(m.pidFile, 3000).catch(() => false)));
    await this.proxies.close();
    this.removeBundle();
    rmSync(this.work, { recursive: true, force: true });
  }
}
