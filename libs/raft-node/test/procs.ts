// Helpers for the real-process tests: free loopback ports, member processes started
// with recorded PIDs (stopped by those PIDs only, never by name), a keel- temp root
// removed at the end, and a small client for a member's control endpoint.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freeLoopbackPort } from '@keel/process';

const repoRoot = resolve(import.meta.dirname, '../../..');
const memberScript = join(import.meta.dirname, 'fixtures/member.ts');

export interface MemberSpec {
  readonly id: number;
  readonly raftPort: number;
  readonly controlPort: number;
  readonly dir: string;
}

export interface StartOptions {
  readonly bootstrap?: readonly MemberSpec[];
  readonly peers?: readonly MemberSpec[];
  readonly snapshotEvery?: number;
  readonly keepEntries?: number;
}

export interface RunningMember {
  readonly spec: MemberSpec;
  readonly child: ChildProcess;
  readonly pid: number;
  exited: boolean;
  output: string;
}

const memberList = (specs: readonly MemberSpec[]) => specs.map((s) => `${s.id}=127.0.0.1:${s.raftPort}`).join(',');

/** Everything one test started: members and the temp root. stopAll() cleans up, also on failure. */
export class Procs {
  readonly members = new Map<number, RunningMember>();
  private readonly all: RunningMember[] = [];
  /** Set by stopAll(): client loops of a test that timed out check it and end. */
  stopped = false;

  private constructor(readonly root: string) {}

  static async create(): Promise<Procs> {
    const procs = new Procs(await mkdtemp(join(tmpdir(), 'keel-raft-procs-')));
    // Last resort if the test runner exits without running cleanup: kill by recorded PID.
    process.once('exit', procs.killAllSync);
    return procs;
  }

  private readonly killAllSync = (): void => {
    for (const m of this.all) {
      if (m.exited) continue;
      try {
        process.kill(m.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };

  async spec(id: number): Promise<MemberSpec> {
    return { id, raftPort: await freeLoopbackPort(), controlPort: await freeLoopbackPort(), dir: join(this.root, `member-${id}`) };
  }

  async start(spec: MemberSpec, opts: StartOptions): Promise<RunningMember> {
    const args = ['--import', 'tsx', memberScript, '--id', String(spec.id), '--dir', spec.dir];
    args.push('--listen', `127.0.0.1:${spec.raftPort}`, '--control', String(spec.controlPort));
    if (opts.bootstrap) args.push('--bootstrap', memberList(opts.bootstrap));
    if (opts.peers) args.push('--peers', memberList(opts.peers));
    if (opts.snapshotEvery) args.push('--snapshot-every', String(opts.snapshotEvery));
    if (opts.keepEntries) args.push('--keep-entries', String(opts.keepEntries));
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const m: RunningMember = { spec, child, pid: child.pid!, exited: false, output: '' };
    this.all.push(m);
    this.members.set(spec.id, m);
    child.on('exit', () => (m.exited = true));
    child.stderr!.on('data', (d: Buffer) => (m.output += d.toString()));
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`member ${spec.id} did not start: ${m.output}`)), 20_000);
      child.stdout!.on('data', (d: Buffer) => {
        m.output += d.toString();
        if (m.output.includes('"ready"')) {
          clearTimeout(timer);
          res();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        rej(new Error(`member ${spec.id} exited with ${code}: ${m.output}`));
      });
    });
    return m;
  }

  /** kill -9, by the PID recorded at start. */
  async kill(id: number): Promise<void> {
    const m = this.members.get(id);
    if (!m || m.exited) return;
    const gone = new Promise((r) => m.child.once('exit', r));
    process.kill(m.pid, 'SIGKILL');
    await gone;
  }

  async stopAll(): Promise<void> {
    this.stopped = true;
    for (const m of this.all) {
      if (m.exited) continue;
      const gone = new Promise((r) => m.child.once('exit', r));
      try {
        process.kill(m.pid, 'SIGKILL');
      } catch {
        continue; // already gone
      }
      await gone;
    }
    await rm(this.root, { recursive: true, force: true });
    process.off('exit', this.killAllSync);
  }
}

export class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Calls a member's control endpoint; throws ControlError for an error answer, and the fetch error when it is down. */
export async function call<T>(spec: MemberSpec, path: string, body?: unknown, timeoutMs = 15_000): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${spec.controlPort}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const value = (await res.json()) as T & { code?: string; message?: string };
  if (!res.ok) throw new ControlError(res.status, value.code ?? 'unknown', value.message ?? '');
  return value;
}

export async function until(cond: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await cond()) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface MemberStatus {
  id: number;
  leader: number;
  state: string;
  term: number;
  commit: number;
  applied: number;
  snapshotIndex: number;
  firstIndex: number;
  confState: { voters: number[]; learners: number[] };
}

export type LogEntry = [number, string, string];
