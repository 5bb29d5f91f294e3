// A keel-store cluster of real processes, for keel-store's own cross-process tests and for
// anything else tested on keel-store (the apiserver's suites): the command is
// bundled once per test file into the repo's tmp/ (so npm packages resolve from the
// repo's node_modules and parallel test files never share a bundle), members run on
// loopback ports with LevelDB data under one keel-… folder, and are started, killed and
// stopped only by their recorded PIDs (tools/process).
import { build } from 'esbuild';
import { freeLoopbackPorts, httpAnswers, killDaemon, startDaemon, stopDaemon } from '@keel/process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repoRoot = resolve(import.meta.dirname, '../../..');

export interface StoreMember {
  name: string;
  clientPort: number;
  peerPort: number;
  metricsPort: number;
  dataDir: string;
  pidFile: string;
  logFile: string;
  /** `127.0.0.1:PORT` */
  endpoint: string;
  state: 'new' | 'existing';
}

export interface StoreCluster {
  members: StoreMember[];
  endpoints: string[];
  work: string;
  bundle: string;
  start(i: number): Promise<void>;
  stopMember(i: number): Promise<void>;
  kill(i: number): Promise<void>;
  /** Prepares (not starts) one more member, to be added by MemberAdd and started with `existing`. */
  prepareMember(name: string): Promise<StoreMember>;
  stop(): Promise<void>;
}

/**
 * Bundles apps/<app>/src/main.ts into one ESM file at `outfile` (workspace libs inlined, npm
 * packages resolved from the repo's node_modules), so a test or bench runs the current source.
 */
export async function bundleApp(app: string, outfile: string): Promise<string> {
  await build({
    absWorkingDir: repoRoot,
    entryPoints: [join(repoRoot, 'apps', app, 'src/main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    sourcemap: true,
    tsconfig: join(repoRoot, 'tsconfig.base.json'),
    logLevel: 'warning',
  });
  return outfile;
}

/** Bundles apps/store/src/main.ts into a fresh folder under tmp/ and returns the script's path. */
export async function bundleStore(): Promise<{ script: string; remove: () => void }> {
  mkdirSync(join(repoRoot, 'tmp'), { recursive: true });
  const dir = mkdtempSync(join(repoRoot, 'tmp', 'keel-store-bundle-'));
  const script = await bundleApp('store', join(dir, 'main.js'));
  return { script, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface StartOptions {
  members: number;
  heartbeatMs?: number;
  electionMs?: number;
  snapshotCount?: number;
  /** The folder to work in (made if missing, removed by stop), so a caller can clean it up if start is cut short; default a fresh keel-store-test-* folder under the system's temp folder. */
  dir?: string;
}

export async function startStoreCluster(opts: StartOptions): Promise<StoreCluster> {
  const work = opts.dir ?? mkdtempSync(join(tmpdir(), 'keel-store-test-'));
  mkdirSync(work, { recursive: true });
  const { script, remove } = await bundleStore();
  const members: StoreMember[] = [];
  const make = async (name: string, state: 'new' | 'existing'): Promise<StoreMember> => {
    const [clientPort, peerPort, metricsPort] = await freeLoopbackPorts(3);
    const dir = join(work, `keel-${name}`);
    return {
      name,
      clientPort: clientPort!,
      peerPort: peerPort!,
      metricsPort: metricsPort!,
      dataDir: join(dir, 'data'),
      pidFile: join(dir, 'keel-store.pid'),
      logFile: join(dir, 'keel-store.log'),
      endpoint: `127.0.0.1:${clientPort}`,
      state,
    };
  };
  for (let i = 0; i < opts.members; i++) members.push(await make(`m${i}`, 'new'));
  const clusterFlag = () =>
    members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`)
      .join(',');
  const argv = (m: StoreMember): [string, ...string[]] => [
    process.execPath,
    script,
    `--name=${m.name}`,
    `--data-dir=${m.dataDir}`,
    `--listen-client-urls=http://${m.endpoint}`,
    `--listen-peer-urls=http://127.0.0.1:${m.peerPort}`,
    `--listen-metrics-urls=http://127.0.0.1:${m.metricsPort}`,
    `--initial-cluster=${clusterFlag()}`,
    `--initial-cluster-state=${m.state}`,
    `--heartbeat-interval=${opts.heartbeatMs ?? 100}`,
    `--election-timeout=${opts.electionMs ?? 1000}`,
    `--snapshot-count=${opts.snapshotCount ?? 10_000}`,
    '--log-level=info',
  ];
  const start = async (i: number) => {
    const m = members[i]!;
    await startDaemon({
      argv: argv(m),
      pidFile: m.pidFile,
      logFile: m.logFile,
      // Serving (HTTP up) is enough: a member of three cannot lead alone.
      ready: () => httpAnswers(`http://127.0.0.1:${m.metricsPort}/metrics`),
      readyTimeoutMs: 20_000,
    });
  };
  const stop = async () => {
    await Promise.all(members.map((m) => stopDaemon(m.pidFile, 3000).catch(() => false)));
    rmSync(work, { recursive: true, force: true });
    remove();
  };
  // Last resort if the runner exits without cleanup.
  process.once('exit', () => {
    for (const m of members) void killDaemon(m.pidFile).catch(() => undefined);
  });
  const cluster: StoreCluster = {
    members,
    get endpoints() {
      return members.map((m) => m.endpoint);
    },
    work,
    bundle: script,
    start,
    stopMember: async (i) => void (await stopDaemon(members[i]!.pidFile, 5000)),
    kill: async (i) => void (await killDaemon(members[i]!.pidFile)),
    prepareMember: async (name) => {
      const m = await make(name, 'existing');
      members.push(m);
      return m;
    },
    stop,
  };
  try {
    await Promise.all(members.map((_, i) => start(i)));
    // Wait until the cluster has a leader (every member's /health says so).
    const deadline = Date.now() + 20_000;
    for (const m of members) {
      while (!(await httpAnswers(`http://127.0.0.1:${m.metricsPort}/health`))) {
        if (Date.now() > deadline) throw new Error(`keel-store ${m.name} has no leader after 20 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return cluster;
}
