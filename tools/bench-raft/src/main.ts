// keel bench-raft: proposals per second and commit latency of @keel/raft-node on this
// machine, for 1 and 3 members on loopback with real fsync (LevelDB synced batches), at
// 1, 16 and 256 concurrent proposers. The leader runs in this process and the proposers
// call its propose() directly (as keel-store will); followers are separate processes.
// A proposal's latency runs from propose() to its entry applied on the leader, which
// includes the leader's fsync, replication to a quorum and the followers' fsyncs.
// Prints the conditions and a table, and writes the same as JSON (tmp/bench-raft.json).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { GrpcTransport, LevelStorage, RaftHost } from '@keel/raft-node';
import { freeLoopbackPort, onCleanup, runTool } from '@keel/process';

interface Result {
  members: number;
  proposers: number;
  proposals: number;
  seconds: number;
  proposalsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Entries persisted per synced write on the leader: the group commit at work. */
  entriesPerFsync: number;
}

const repoRoot = resolve(import.meta.dirname, '../../..');

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** One group: the leader here, followers as child processes (tracked by PID), all under one keel- dir. */
class Group {
  private readonly children: ChildProcess[] = [];
  host!: RaftHost;
  storage!: LevelStorage;

  constructor(
    readonly root: string,
    readonly size: number,
  ) {}

  async start(): Promise<void> {
    const ports = await Promise.all(Array.from({ length: this.size }, () => freeLoopbackPort()));
    const members = new Map(ports.map((p, i) => [i + 1, `127.0.0.1:${p}`] as [number, string]));
    const spec = [...members].map(([id, a]) => `${id}=${a}`).join(',');
    for (let id = 2; id <= this.size; id++) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'follower.ts'), String(id), join(this.root, `m${id}`), members.get(id)!, spec],
        { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      this.children.push(child);
      await new Promise<void>((res, rej) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('"ready"')) res();
        });
        child.once('exit', (code) => rej(new Error(`follower ${id} exited with ${code}`)));
      });
    }
    this.storage = await LevelStorage.open(join(this.root, 'm1'));
    this.host = new RaftHost({
      id: 1,
      storage: this.storage,
      transport: new GrpcTransport({ id: 1, listen: members.get(1)!, peers: members }),
      stateMachine: { apply: () => undefined, snapshot: () => new Uint8Array(0), restore: () => undefined },
      bootstrap: members,
    });
    await this.host.start();
    // Campaign at once: the others wait out an election timeout first, so member 1 leads.
    this.host.campaign();
    const leader = await this.host.waitForLeader(10_000);
    if (leader !== 1) await this.host.transferLeadership(1);
  }

  async stop(): Promise<void> {
    await this.host?.stop().catch(() => undefined);
    for (const child of this.children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const gone = new Promise((r) => child.once('exit', r));
      process.kill(child.pid!, 'SIGTERM');
      const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid!, 'SIGKILL'), 3000);
      await gone;
      clearTimeout(timer);
    }
  }
}

async function run(group: Group, proposers: number, seconds: number, warmupSeconds: number, payload: Uint8Array): Promise<Omit<Result, 'members'>> {
  const latencies: number[] = [];
  let measuring = false;
  let stop = false;
  const loops = Array.from({ length: proposers }, async () => {
    while (!stop) {
      const t0 = performance.now();
      await group.host.propose(payload);
      if (measuring) latencies.push(performance.now() - t0);
    }
  });
  await new Promise((r) => setTimeout(r, warmupSeconds * 1000));
  const syncedAtStart = group.storage.stats.syncedWrites;
  const lastAtStart = group.host.status().lastIndex;
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  const synced = group.storage.stats.syncedWrites - syncedAtStart;
  const appended = group.host.status().lastIndex - lastAtStart;
  stop = true;
  await Promise.all(loops);
  const sorted = Float64Array.from(latencies).sort();
  return {
    proposers,
    proposals: latencies.length,
    seconds: Number(elapsed.toFixed(2)),
    proposalsPerSecond: Math.round(latencies.length / elapsed),
    p50Ms: Number(percentile(sorted, 50).toFixed(2)),
    p99Ms: Number(percentile(sorted, 99).toFixed(2)),
    maxMs: Number((sorted[sorted.length - 1] ?? NaN).toFixed(2)),
    entriesPerFsync: Number((appended / Math.max(1, synced)).toFixed(1)),
  };
}

async function main(): Promise<void> {
  const program = new Command('bench-raft')
    .description('Raft proposals per second and commit latency on loopback with real fsync')
    .option('--members <list>', 'group sizes', '1,3')
    .option('--proposers <list>', 'concurrent proposers', '1,16,256')
    .option('--payload <bytes>', 'bytes per proposal', '256')
    .option('--duration <seconds>', 'measured seconds per run', '5')
    .option('--warmup <seconds>', 'unmeasured seconds before each run', '1')
    .option('--out <file>', 'JSON results', 'tmp/bench-raft.json')
    .parse();
  const o = program.opts<{ members: string; proposers: string; payload: string; duration: string; warmup: string; out: string }>();
  const list = (s: string, what: string) =>
    s.split(',').map((x) => {
      const n = Number(x);
      if (!Number.isInteger(n) || n < 1) {
        process.stderr.write(`bench-raft: --${what} ${s}: want positive integers, comma-separated\n`);
        process.exit(2);
      }
      return n;
    });
  const memberCounts = list(o.members, 'members');
  const proposerCounts = list(o.proposers, 'proposers');
  const payload = new Uint8Array(Number(o.payload)).fill(0x61);
  const seconds = Number(o.duration);
  const warmup = Number(o.warmup);

  const cpu = cpus();
  const conditions = {
    payloadBytes: payload.length,
    durationSeconds: seconds,
    warmupSeconds: warmup,
    tickMs: 100,
    electionTicks: 10,
    fsync: 'LevelDB batch with sync: true, one per Ready',
    network: 'gRPC over 127.0.0.1',
    machine: { cores: cpu.length, model: cpu[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    // The machine may be shared: a high load average means other work competed for the cores.
    loadAverageAtStart: Number(loadavg()[0]!.toFixed(2)),
    loadAverageAtEnd: 0,
    date: new Date().toISOString(),
  };
  console.log(
    `bench-raft: payload ${payload.length} B, ${seconds} s per run after ${warmup} s warm-up, fsync on, loopback gRPC; ` +
      `machine: ${conditions.machine.cores} cores (${conditions.machine.model}), ${conditions.machine.memoryGiB} GiB, Node ${process.version}, ` +
      `load average ${conditions.loadAverageAtStart}`,
  );

  const results: Result[] = [];
  const root = await mkdtemp(join(tmpdir(), 'keel-bench-raft-'));
  let group: Group | undefined;
  // Once, on the way out or on Ctrl-C / SIGTERM (even while a group starts): the followers
  // by their child PIDs, then the folder.
  const cleanup = onCleanup(`raft groups in ${root}`, async () => {
    await group?.stop();
    await rm(root, { recursive: true, force: true });
  });
  try {
    for (const members of memberCounts) {
      for (const proposers of proposerCounts) {
        // A fresh group per run, so one run's log and compactions do not weigh on the next.
        group = new Group(join(root, `g${members}-${proposers}`), members);
        await mkdir(group.root, { recursive: true });
        await group.start();
        results.push({ members, ...(await run(group, proposers, seconds, warmup, payload)) });
        await group.stop();
        group = undefined;
        const r = results[results.length - 1]!;
        console.error(`  done: ${members} member(s), ${proposers} proposer(s): ${r.proposalsPerSecond}/s`);
      }
    }
  } finally {
    await cleanup();
  }

  conditions.loadAverageAtEnd = Number(loadavg()[0]!.toFixed(2));
  console.log(`load average at the end: ${conditions.loadAverageAtEnd}`);
  const header = ['members', 'proposers', 'proposals/s', 'p50 ms', 'p99 ms', 'max ms', 'entries/fsync'];
  const rows = results.map((r) => [r.members, r.proposers, r.proposalsPerSecond, r.p50Ms, r.p99Ms, r.maxMs, r.entriesPerFsync].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));

  const out = resolve(repoRoot, o.out);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify({ benchmark: 'raft', conditions, results }, null, 2)}\n`);
  console.log(`JSON: ${out}`);
}

runTool('bench-raft', main);
