// The HA cluster as the demo sees it from outside: ha.json (written by `keel up --ha`, which
// this tool runs as a command, since tools do not import apps), an admin client over every
// apiserver, each store member's own status, and the `keel` command for up/down.
import type { KubeObject } from '@keel/api';
import { Client, GrpcTransport } from '@keel/client';
import { EtcdClient } from '@keel/etcd-client';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of ha.json the demo reads (apps/cli/src/ha/cluster.ts writes it). */
export interface ClusterFile {
  dir: string;
  layout: {
    prefix: string;
    bridge: { name: string; subnet: string; gateway: string };
    controlPlanes: { name: string; ip: string }[];
    workers: { name: string; ip: string; podCidr?: string }[];
  };
  storeEndpoints: string[];
  apiserverAddresses: string[];
  apiserverUrls: string[];
  kubeconfig: string;
  admin: { caFile: string; certFile: string; keyFile: string };
  /** PID files of each host's parts, by host and part. */
  pidFiles: Record<string, Record<string, string>>;
}

export function readClusterFile(dir: string): ClusterFile {
  const path = join(dir, 'ha.json');
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ClusterFile;
  } catch (err) {
    throw new Error(`cannot read ${path} (did keel up --ha run?): ${(err as Error).message}`, { cause: err });
  }
}

/** An admin client over every apiserver: the channel fails over between them. */
export function adminClient(file: ClusterFile, callTimeoutMs = 3000): Client {
  return new Client(
    new GrpcTransport({
      address: file.apiserverAddresses.join(','),
      tls: { ca: readFileSync(file.admin.caFile), cert: readFileSync(file.admin.certFile), key: readFileSync(file.admin.keyFile) },
      callTimeoutMs,
    }),
  );
}

export interface MemberView {
  host: string;
  endpoint: string;
  memberId?: string;
  leaderId?: string;
  term?: number;
  revision?: number;
}

/** Each member's own status (one client per member, so a dead one cannot hide behind another). */
export class Members {
  private readonly clients: { host: string; endpoint: string; client: EtcdClient }[];

  constructor(file: ClusterFile, callTimeoutMs = 800) {
    this.clients = file.layout.controlPlanes.map((h, i) => {
      const endpoint = file.storeEndpoints[i]!;
      return { host: h.name, endpoint, client: new EtcdClient({ endpoints: [endpoint], callTimeoutMs }) };
    });
  }

  async views(hosts?: string[]): Promise<MemberView[]> {
    const chosen = hosts ? this.clients.filter((c) => hosts.includes(c.host)) : this.clients;
    return Promise.all(
      chosen.map(async ({ host, endpoint, client }): Promise<MemberView> => {
        try {
          const s = await client.status();
          return { host, endpoint, memberId: s.memberId, leaderId: s.leader, term: s.raftTerm, revision: s.revision };
        } catch {
          return { host, endpoint };
        }
      }),
    );
  }

  /** Keys under `prefix` that one member has applied (a serializable read: its own state). */
  async keysOn(host: string, prefix: string): Promise<string[]> {
    const c = this.clients.find((m) => m.host === host);
    if (!c) throw new Error(`no member on ${host}`);
    const res = await c.client.range(prefix, { prefix: true, keysOnly: true, serializable: true });
    return res.kvs.map((kv) => kv.key.toString('utf8'));
  }

  close(): void {
    for (const c of this.clients) c.client.close();
  }
}

/** The leader as the members that answered see it: a member reporting itself as leader. */
export function leaderOf(views: MemberView[]): MemberView | undefined {
  return views.find((v) => v.memberId !== undefined && v.leaderId === v.memberId);
}

export interface KeelCommand {
  /** argv of `keel` (node and the CLI bundle). */
  argv: string[];
}

/** Runs `keel ...args` to its end; rejects with its output when it fails. */
export function runKeel(keel: KeelCommand, args: string[], timeoutMs = 300_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(keel.argv[0]!, [...keel.argv.slice(1), ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`keel ${args.join(' ')} failed: ${String(stdout).trim().split('\n').slice(-15).join('\n')}\n${String(stderr).trim()}`));
      else resolve(String(stdout));
    });
  });
}

/** Every object of a resource in a namespace, page by page. */
export async function listAll<T extends KubeObject>(client: Client, gvr: { group: string; version: string; resource: string }, namespace: string): Promise<T[]> {
  const out: T[] = [];
  let cont: string | undefined;
  do {
    const page = await client.resource<T>(gvr).namespace(namespace).list({ limit: 500, ...(cont ? { continue: cont } : {}) });
    out.push(...page.items);
    cont = page.metadata.continue;
  } while (cont);
  return out;
}

/**
 * `keel` from a copy of the built commands (dist/apps → tmp/<name>-dist/apps), so a rebuild
 * of dist/ while the cluster runs cannot pull a bundle from under a restart. The copy sits
 * under the repo, so the bundles' npm imports resolve from its node_modules.
 */
export function snapshotBundles(repo: string, name: string): KeelCommand {
  const dist = join(repo, 'dist', 'apps');
  for (const app of ['cli', 'store', 'apiserver', 'controller-manager', 'scheduler', 'agent']) {
    if (!existsSync(join(dist, app, 'main.js'))) throw new Error(`dist/apps/${app}/main.js is missing: build first (npx nx run-many -t build)`);
  }
  const copy = join(repo, 'tmp', `${name}-dist`, 'apps');
  rmSync(copy, { recursive: true, force: true });
  mkdirSync(copy, { recursive: true });
  cpSync(dist, copy, { recursive: true });
  return { argv: [process.execPath, join(copy, 'cli', 'main.js')] };
}
