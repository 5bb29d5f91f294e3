// Certificates for the secure apiserver's tests, made by the PKI tool (tools/pki) run as a
// command, as `keel up` will run it: the cluster set, plus extra users and a foreign CA.
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../../..');
const PKI_MAIN = join(REPO, 'tools/pki/src/main.ts');

export interface Files {
  certFile: string;
  keyFile: string;
}

async function pki(args: string[]): Promise<any> {
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', PKI_MAIN, ...args], { cwd: REPO, timeout: 60_000 });
  return JSON.parse(stdout);
}

export interface TestPki {
  dir: string;
  ca: Files;
  apiserver: Files;
  clients: Record<string, Files & { user: string; groups: string[] }>;
  kubeconfigs: Record<string, string>;
  serviceAccount: { privateKeyFile: string; publicKeyFile: string };
}

/** The cluster PKI in dir, for a server at `server`. */
export async function clusterPki(dir: string, server = 'https://127.0.0.1:6443', nodes: string[] = ['n1']): Promise<TestPki> {
  return pki(['cluster', '--dir', dir, '--server', server, '--nodes', nodes.join(',')]);
}

/** Another client certificate from the CA in dir. */
export async function userCert(dir: string, name: string, cn: string, groups: string[] = []): Promise<Files> {
  return pki(['cert', '--dir', dir, '--name', name, '--cn', cn, ...(groups.length ? ['--groups', groups.join(',')] : [])]);
}

/** A CA the server does not trust, and a client certificate from it. */
export async function foreignCert(dir: string, cn: string, groups: string[] = []): Promise<Files> {
  await pki(['ca', '--dir', dir, '--cn', 'not-the-cluster-ca']);
  return userCert(dir, 'foreign', cn, groups);
}
