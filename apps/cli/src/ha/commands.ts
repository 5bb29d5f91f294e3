// The `--ha` side of `keel up`, `keel down` and `keel status`: the flags, and what each
// command does with them. main.ts adds the flags and hands over when --ha is given (or,
// for down and status, when the folder holds an HA cluster), so the one-host commands stay
// as they are.
import { Command, InvalidArgumentError } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { applyManifests, parseManifests } from '../local/apply';
import { ApiConnection } from '../local/connection';
import { HaCluster } from './cluster';
import { apiserverUrl, haLayout, HA_PREFIX, HA_SUBNET, type HaLayout } from './layout';
import { formatHaStatus, gatherHaStatus } from './status';

export const DEFAULT_HA_DIR = join(homedir(), '.keel', 'keel-ha');

export interface HaFlags {
  ha?: boolean;
  dir: string;
  controlPlanes?: number;
  workers?: number;
  haPrefix?: string;
  haSubnet?: string;
  registry?: string;
  sample?: string | false;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

/** Adds the HA flags to `up` (all of them) or to `down`/`status` (only --ha). */
export function withHaFlags(cmd: Command, forUp: boolean): Command {
  cmd.option('--ha', `a highly available cluster: three control-plane hosts and two worker hosts, each a network namespace on ${HA_SUBNET} (folder ${DEFAULT_HA_DIR} unless --dir)`);
  if (forUp) {
    cmd
      .option('--control-planes <n>', 'with --ha: control-plane hosts (odd)', count, 3)
      .option('--workers <n>', 'with --ha: worker hosts', count, 2)
      .option('--ha-prefix <keel-name>', 'with --ha: name prefix of its hosts and bridge', HA_PREFIX)
      .option('--ha-subnet <a.b.c.0/24>', "with --ha: the hosts' subnet", HA_SUBNET);
  }
  return cmd;
}

/** The folder of an HA cluster: --dir when given, else ~/.keel/keel-ha. */
export function haDir(flags: HaFlags, localDefault: string): string {
  return resolve(flags.dir === localDefault ? DEFAULT_HA_DIR : flags.dir);
}

/** The layout recorded by `keel up --ha` in that folder (down and status use what up made). */
function recordedLayout(dir: string): HaLayout | undefined {
  return HaCluster.readClusterFile(dir)?.layout;
}

/** True when down/status should act on an HA cluster: --ha, or the folder holds one. */
export function isHaFolder(flags: HaFlags, localDefault: string): boolean {
  return Boolean(flags.ha) || (flags.dir !== localDefault && existsSync(join(resolve(flags.dir), 'ha.json')));
}

/**
 * grpc-js names the first apiserver's IP as the TLS server name, which Node flags as
 * deprecated (RFC 6066) on every connection; the certificate names every IP, so the
 * warning says nothing here and would bury the report.
 */
function quietTlsServerNameWarning(): void {
  (process as { noDeprecation?: boolean }).noDeprecation = true;
}

export async function haUp(flags: HaFlags, opts: { bundles: string; localDefault: string }): Promise<boolean> {
  quietTlsServerNameWarning();
  const dir = haDir(flags, opts.localDefault);
  const layout =
    recordedLayout(dir) ??
    haLayout({
      ...(flags.controlPlanes !== undefined ? { controlPlanes: flags.controlPlanes } : {}),
      ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
      ...(flags.haPrefix ? { prefix: flags.haPrefix } : {}),
      ...(flags.haSubnet ? { subnet: flags.haSubnet } : {}),
    });
  const cluster = new HaCluster({ dir, bundles: opts.bundles, layout, registry: flags.registry ?? '127.0.0.1:5000' });
  const started = Date.now();
  const report = await cluster.up();
  for (const r of report) console.log(`  ${r.host.padEnd(14)} ${r.part.padEnd(24)} ${r.state.padEnd(8)} ${r.detail}`);
  const failed = report.some((r) => r.state === 'failed');
  console.log(`\n${failed ? 'HA cluster did NOT come up fully' : 'HA cluster up'} in ${((Date.now() - started) / 1000).toFixed(1)} s (folder ${dir})`);
  if (!failed) {
    console.log(`  store members: ${layout.controlPlanes.map((h) => `${h.name}=${h.ip}:2379`).join(', ')}`);
    console.log(`  apiservers:    ${layout.controlPlanes.map(apiserverUrl).join(', ')}`);
    console.log(`  kubeconfig:    ${cluster.kubeconfigPath} (server ${apiserverUrl(layout.controlPlanes[0]!)})`);
    if (flags.sample && layout.workers.length > 0) {
      const file = HaCluster.readClusterFile(dir)!;
      const api = new ApiConnection({ server: file.apiserverUrls[0]!, caFile: file.admin.caFile, certFile: file.admin.certFile, keyFile: file.admin.keyFile });
      try {
        const applied = await applyManifests(api, parseManifests(readFileSync(flags.sample, 'utf8')));
        console.log(`\nsample app (${flags.sample}):`);
        for (const a of applied) console.log(`  ${a.kind.toLowerCase()}/${a.name}${a.namespace ? ` -n ${a.namespace}` : ''} ${a.result}`);
      } finally {
        api.close();
      }
    }
  }
  console.log(`\nsee it with: keel status --ha${dir === DEFAULT_HA_DIR ? '' : ` --dir ${dir}`}; stop it with: keel down --ha${dir === DEFAULT_HA_DIR ? '' : ` --dir ${dir}`}`);
  return !failed;
}

export async function haDown(flags: HaFlags, opts: { bundles: string; localDefault: string }): Promise<void> {
  const dir = haDir(flags, opts.localDefault);
  const layout = recordedLayout(dir);
  if (!layout) throw new Error(`no HA cluster in ${dir} (no ha.json)`);
  const cluster = new HaCluster({ dir, bundles: opts.bundles, layout, registry: flags.registry ?? '127.0.0.1:5000' });
  for (const r of await cluster.down({ removeData: true })) console.log(`  ${r.host.padEnd(14)} ${r.part.padEnd(24)} ${r.detail}`);
}

export async function haStatus(flags: HaFlags, opts: { bundles: string; localDefault: string }): Promise<void> {
  const dir = haDir(flags, opts.localDefault);
  const layout = recordedLayout(dir);
  if (!layout) throw new Error(`no HA cluster in ${dir} (no ha.json): keel up --ha first`);
  quietTlsServerNameWarning();
  const cluster = new HaCluster({ dir, bundles: opts.bundles, layout, registry: flags.registry ?? '127.0.0.1:5000' });
  console.log(formatHaStatus(await gatherHaStatus(cluster)));
}
