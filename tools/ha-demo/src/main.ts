// `npm run demo:ha`: the three-node HA demo. Brings up an HA cluster (`keel up --ha`: three
// control-plane hosts, two workers), deploys the web app behind a Service, probes it from a
// worker host, then runs the failover (failover.ts): kill the store leader's host while
// writing, measure, bring it back, check every acknowledged write. Prints a timeline and
// the figures, writes them as JSON, tears the cluster down (unless --keep), and exits
// non-zero if an acknowledged write was lost or the cluster did not recover.
import type { KubeObject, Pod, Service } from '@keel/api';
import { Resources } from '@keel/client';
import { hostExists } from '@keel/hosts';
import { Command, InvalidArgumentError } from 'commander';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { adminClient, readClusterFile, runKeel, snapshotBundles } from './cluster';
import { failoverProblems, formatResult, runFailover } from './failover';
import { ServiceProbe } from './probe';

const repo = resolve(import.meta.dirname, '../../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function keelDir(value: string): string {
  const dir = resolve(value);
  if (!basename(dir).startsWith('keel-')) throw new InvalidArgumentError(`the cluster folder must be named keel-…, got ${dir}`);
  return dir;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected seconds ≥ 0');
  return n;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 9) throw new InvalidArgumentError('expected 0-9');
  return n;
}

interface Flags {
  dir: string;
  workers: number;
  keep: boolean;
  before: number;
  after: number;
  json: string;
}

const program = new Command('ha-demo')
  .description('the three-node HA demo: kill the store leader host while writing; measure failover; check no acknowledged write is lost')
  .option('--dir <dir>', 'the cluster folder (named keel-…)', keelDir, join(repo, 'tmp', 'keel-ha-demo'))
  .option('--workers <n>', 'worker hosts (0: control plane only, no app)', count, 2)
  .option('--before <s>', 'seconds of writing before the kill', seconds, 3)
  .option('--after <s>', 'seconds of writing after writes resume, before the host comes back', seconds, 3)
  .option('--keep', 'leave the cluster running at the end (stop it with keel down --ha --dir …)', false)
  .option('--json <file>', 'where the figures go', join(repo, 'tmp', 'ha-demo.json'));

async function main(): Promise<number> {
  const flags = program.parse().opts<Flags>();
  (process as { noDeprecation?: boolean }).noDeprecation = true; // grpc-js' IP TLS server name (see apps/cli/src/ha/commands.ts)
  const started = Date.now();
  const say = (line = '') => console.log(line);
  if (hostExists('keel-ha-cp1')) throw new Error('an HA cluster already runs (host keel-ha-cp1 exists): stop it with keel down --ha [--dir …] first');
  const keel = snapshotBundles(repo, basename(flags.dir));

  say(`== keel up --ha (3 control-plane hosts, ${flags.workers} workers) in ${flags.dir}`);
  rmSync(flags.dir, { recursive: true, force: true });
  const upArgs = ['up', '--ha', '--dir', flags.dir, '--workers', String(flags.workers)];
  say((await runKeel(keel, flags.workers > 0 ? [...upArgs, '--sample', join(repo, 'examples', 'web.yaml')] : [...upArgs, '--no-sample'])).trimEnd());
  const file = readClusterFile(flags.dir);
  const client = adminClient(file);
  let probe: ServiceProbe | undefined;
  let failed = false;
  try {
    if (flags.workers > 0) {
      say('\n== the web app: Deployment demo/web (2 pods) behind Service demo/web');
      const deadline = Date.now() + 180_000;
      let ready: Pod[] = [];
      while (Date.now() < deadline) {
        const pods = (await client.pods('demo').list({ labelSelector: 'app=web' }).catch(() => ({ items: [] as Pod[] }))).items;
        ready = pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        if (ready.length >= 2) break;
        await sleep(1000);
      }
      for (const p of ready) say(`  pod ${p.metadata.name} Ready on ${p.spec?.nodeName} at ${p.status?.podIP}`);
      if (ready.length < 2) say(`  only ${ready.length} of 2 pods Ready after 180 s: the probe will say what the app answers`);
      const svc = (await client.resource<Service & KubeObject>(Resources.services).namespace('demo').get('web')) as Service;
      const url = `http://${svc.spec?.clusterIP}:80/`;
      const host = file.layout.workers[0]!.name;
      probe = new ServiceProbe({ host, url, everyMs: 200 });
      probe.start();
      const first = Date.now();
      while (Date.now() - first < 60_000 && !probe.answers.some((a) => a.ok)) await sleep(250);
      say(`  probing ${url} from host ${host} every 200 ms: ${probe.answers.some((a) => a.ok) ? 'answering' : 'NOT answering yet'}`);
    }

    say('\n== keel status --ha (before)');
    say((await runKeel(keel, ['status', '--dir', flags.dir])).trimEnd());

    say('\n== failover');
    const result = await runFailover({
      file,
      client,
      keel,
      namespace: 'ha-demo',
      beforeMs: flags.before * 1000,
      afterMs: flags.after * 1000,
      ...(probe ? { probe } : {}),
      log: say,
    });

    say('\n== keel status --ha (after)');
    say((await runKeel(keel, ['status', '--dir', flags.dir])).trimEnd());

    say('\n== result');
    say(formatResult(result));
    const problems = failoverProblems(result);
    mkdirSync(resolve(flags.json, '..'), { recursive: true });
    writeFileSync(
      flags.json,
      JSON.stringify(
        {
          conditions: { controlPlanes: file.layout.controlPlanes.length, workers: file.layout.workers.length, writers: 1, cores: (await import('node:os')).cpus().length, storeTiming: 'heartbeat 100 ms, election 1000 ms' },
          ...result,
          lost: result.lost.map((w) => w.name),
          problems,
        },
        null,
        2,
      ) + '\n',
    );
    say(`\nfigures written to ${flags.json}`);
    if (problems.length) {
      failed = true;
      say(`\nFAILED: ${problems.join('; ')}`);
    } else {
      say(`\nOK: failover in ${Math.round(result.figures.leaderElectedMs!)} ms, writes resumed in ${Math.round(result.figures.writesResumedMs!)} ms, 0 of ${result.writes.acked} acknowledged writes lost`);
    }
  } finally {
    probe?.stop();
    client.close();
    if (!flags.keep) {
      say('\n== keel down --ha');
      say((await runKeel(keel, ['down', '--ha', '--dir', flags.dir]).catch((err: Error) => err.message)).trimEnd());
    } else {
      say(`\nthe cluster keeps running: keel down --ha --dir ${flags.dir}`);
    }
    say(`demo took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`ha-demo: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
