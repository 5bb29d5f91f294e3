// A three-member keel-store on loopback for the benchmark: the built command
// (dist/apps/store/main.js, bundled here first so the run measures the current source),
// one keel-… folder for data, logs and PID files, members stopped only by recorded PID.
import { freeLoopbackPorts, httpAnswers, startDaemon, stopDaemon } from '@keel/process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

const repoRoot = resolve(import.meta.dirname, '../../..');

export interface BenchCluster {
  endpoints: string[];
  pids: number[];
  stop(): Promise<void>;
}

export async function startKeelStore(dir: string, members: number): Promise<BenchCluster> {
  if (!basename(dir).startsWith('keel-')) throw new Error(`keel-store dir must be named keel-…, got ${dir}`);
  execFileSync(process.execPath, [join(repoRoot, 'tools/scripts/bundle.mjs'), 'apps/store'], { cwd: repoRoot, stdio: 'ignore' });
  const script = join(repoRoot, 'dist/apps/store/main.js');
  mkdirSync(dir, { recursive: true });
  const ports = await freeLoopbackPorts(members * 3);
  const specs = Array.from({ length: members }, (_, i) => ({
    name: `keel-store-${i}`,
    client: ports[3 * i]!,
    peer: ports[3 * i + 1]!,
    metrics: ports[3 * i + 2]!,
    pidFile: join(dir, `member-${i}.pid`),
  }));
  const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peer}`).join(',');
  const pids: number[] = [];
  const stop = async () => {
    await Promise.all(specs.map((s) => stopDaemon(s.pidFile, 5000)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(
      specs.map(async (s, i) => {
        const daemon = await startDaemon({
          argv: [
            process.execPath,
            // KEEL_PROF=dir: CPU profiles of each member, for finding where time goes.
            ...(process.env['KEEL_PROF'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['KEEL_PROF']}/member-${i}`] : []),
            script,
            `--name=${s.name}`,
            `--data-dir=${join(dir, `member-${i}`)}`,
            `--listen-client-urls=http://127.0.0.1:${s.client}`,
            `--listen-peer-urls=http://127.0.0.1:${s.peer}`,
            `--listen-metrics-urls=http://127.0.0.1:${s.metrics}`,
            `--initial-cluster=${initialCluster}`,
            '--log-level=warn',
          ],
          pidFile: s.pidFile,
          logFile: join(dir, `member-${i}.log`),
          ready: () => httpAnswers(`http://127.0.0.1:${s.metrics}/metrics`),
        });
        pids[i] = daemon.pid;
      }),
    );
    const deadline = Date.now() + 20_000;
    for (const s of specs) {
      while (!(await httpAnswers(`http://127.0.0.1:${s.metrics}/health`))) {
        if (Date.now() > deadline) throw new Error('keel-store elected no leader in 20 s');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoints: specs.map((s) => `127.0.0.1:${s.client}`), pids, stop };
}
