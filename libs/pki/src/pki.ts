// A cluster's PKI, made offline with Debian's `openssl` binary (Node's crypto verifies X.509
// but cannot create it): a CA, the apiserver's serving certificate (SANs for loopback), client
// certificates whose CN is the user and whose O entries are the groups (as kube-apiserver
// reads them), the ServiceAccount token key pair, and kubeconfigs that embed them; for the
// node endpoint (kubelet's port 10250), the apiserver's kubelet client certificate and one
// serving certificate per node with the node's IPs in its SANs.
// Keys are ECDSA P-256: instant to make, and accepted by kubectl 1.20 and 1.33 alike.
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface CertFiles {
  certFile: string;
  keyFile: string;
}

export interface IssueOptions {
  /** The subject CN: the user name for a client certificate. */
  cn: string;
  /** Subject O entries: the user's groups. */
  groups?: string[];
  /** clientAuth, serverAuth, or both extended key usages. */
  usage: 'client' | 'server' | 'both';
  /** SANs of a serving certificate: IPs and DNS names. */
  hosts?: string[];
  days?: number;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd, timeout: 30_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string; code?: string };
    if (e.code === 'ENOENT') throw new Error('openssl not found: install Debian\'s openssl package (tools/prereqs/install.sh)', { cause: err });
    throw new Error(`openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-2).join(' ')}`, { cause: err });
  }
}

/** A subject in openssl's `/T=v/T=v` form; `/`, `+`, `=` and `\` in values are escaped. */
function subject(cn: string, groups: string[] = []): string {
  const esc = (v: string) => v.replace(/[\\/+=]/g, (c) => `\\${c}`);
  return [...groups.map((g) => `/O=${esc(g)}`), `/CN=${esc(cn)}`].join('');
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function extensions(opts: IssueOptions): string {
  const eku = { client: 'clientAuth', server: 'serverAuth', both: 'serverAuth,clientAuth' }[opts.usage];
  const lines = [
    '[v3]',
    'basicConstraints = critical,CA:FALSE',
    'keyUsage = critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage = ${eku}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
  ];
  const hosts = opts.hosts ?? [];
  if (hosts.length > 0) lines.push(`subjectAltName = ${hosts.map((h) => (IPV4.test(h) || h.includes(':') ? `IP:${h}` : `DNS:${h}`)).join(',')}`);
  return lines.join('\n') + '\n';
}

// `openssl req` wants a config with a distinguished_name section even when -subj gives the subject.
const REQ_CONFIG = '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n';

/** Creates `<name>.crt` and `<name>.key`, a self-signed CA, in dir (kept if it exists). */
export async function createCa(dir: string, opts: { name?: string; cn?: string; days?: number } = {}): Promise<CertFiles> {
  mkdirSync(dir, { recursive: true });
  const name = opts.name ?? 'ca';
  const files = { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
  if (existsSync(files.certFile) && existsSync(files.keyFile)) return files;
  const config = join(dir, `${name}.cnf`);
  writeFileSync(
    config,
    REQ_CONFIG + '[v3_ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier = hash\n',
  );
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', files.keyFile], dir);
  try {
    await openssl(
      ['req', '-x509', '-new', '-key', files.keyFile, '-out', files.certFile, '-days', String(opts.days ?? 3650), '-subj', subject(opts.cn ?? 'keel-ca'),
        '-config', config, '-extensions', 'v3_ca', '-sha256'],
      dir,
    );
  } finally {
    rmSync(config, { force: true });
  }
  return files;
}

/** Issues `<name>.crt`/`<name>.key` in dir, signed by the CA. */
export async function issueCert(ca: CertFiles, dir: string, name: string, opts: IssueOptions): Promise<CertFiles> {
  mkdirSync(dir, { recursive: true });
  const files = { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const reqConfig = join(dir, `${name}.req.cnf`);
  const extFile = join(dir, `${name}.ext.cnf`);
  writeFileSync(reqConfig, REQ_CONFIG);
  writeFileSync(extFile, extensions(opts));
  try {
    await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', files.keyFile], dir);
    await openssl(['req', '-new', '-key', files.keyFile, '-out', csr, '-subj', subject(opts.cn, opts.groups), '-config', reqConfig], dir);
    await openssl(
      ['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', `0x${randomBytes(16).toString('hex')}`,
      '-days', String(opts.days ?? 365), '-extfile', extFile, '-extensions', 'v3', '-sha256', '-out', files.certFile],
      dir,
    );
  } finally {
    for (const f of [csr, reqConfig, extFile]) rmSync(f, { force: true });
  }
  return files;
}

/** The ServiceAccount token keys: an RSA private key (PKCS#8) to sign, its public key (SPKI) to verify. */
export function createServiceAccountKeys(dir: string, name = 'sa'): { privateKeyFile: string; publicKeyFile: string } {
  mkdirSync(dir, { recursive: true });
  const files = { privateKeyFile: join(dir, `${name}.key`), publicKeyFile: join(dir, `${name}.pub`) };
  if (existsSync(files.privateKeyFile) && existsSync(files.publicKeyFile)) return files;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  writeFileSync(files.privateKeyFile, privateKey, { mode: 0o600 });
  writeFileSync(files.publicKeyFile, publicKey);
  return files;
}

/** A kubeconfig with the CA, client certificate and key embedded, so it stands alone. */
export function kubeconfig(opts: { server: string; caFile: string; client: CertFiles; user: string; cluster?: string }): string {
  const b64 = (file: string) => readFileSync(file).toString('base64');
  const cluster = opts.cluster ?? 'keel';
  return `apiVersion: v1
kind: Config
clusters:
- name: ${cluster}
  cluster:
    server: ${opts.server}
    certificate-authority-data: ${b64(opts.caFile)}
users:
- name: ${opts.user}
  user:
    client-certificate-data: ${b64(opts.client.certFile)}
    client-key-data: ${b64(opts.client.keyFile)}
contexts:
- name: ${opts.user}@${cluster}
  context:
    cluster: ${cluster}
    user: ${opts.user}
current-context: ${opts.user}@${cluster}
`;
}

export interface ClusterPki {
  dir: string;
  ca: CertFiles;
  /** The apiserver's serving certificate. */
  apiserver: CertFiles;
  /** Client certificates by name: admin, kube-scheduler, kube-controller-manager, node-<name>. */
  clients: Record<string, CertFiles & { user: string; groups: string[] }>;
  serviceAccount: { privateKeyFile: string; publicKeyFile: string };
  /** apiserver-kubelet-client: the apiserver's identity towards agents (kubeadm's name and subject). */
  kubeletClient: CertFiles & { user: string; groups: string[] };
  /** Each node's serving certificate for its agent endpoint (kubelet-<node>), by node name. */
  kubeletServing: Record<string, CertFiles>;
}

/** The subject kubeadm gives the apiserver's kubelet client certificate. */
export const KUBELET_CLIENT = { name: 'apiserver-kubelet-client', user: 'kube-apiserver-kubelet-client', groups: ['system:masters'] };

/** The identities of a cluster's parts, as Kubernetes names them. */
export function clusterIdentities(nodes: string[]): { name: string; user: string; groups: string[] }[] {
  return [
    { name: 'admin', user: 'kubernetes-admin', groups: ['system:masters'] },
    { name: 'kube-scheduler', user: 'system:kube-scheduler', groups: [] },
    { name: 'kube-controller-manager', user: 'system:kube-controller-manager', groups: [] },
    ...nodes.map((n) => ({ name: `node-${n}`, user: `system:node:${n}`, groups: ['system:nodes'] })),
  ];
}

/**
 * Everything a local cluster needs, under dir (the CA is reused when present). `nodeIps`
 * gives each node's addresses for its serving certificate; a node not listed gets
 * 127.0.0.1, the agent's default --node-ip. The node name is a DNS SAN too.
 */
export async function createClusterPki(dir: string, opts: { hosts?: string[]; nodes?: string[]; nodeIps?: Record<string, string[]> } = {}): Promise<ClusterPki> {
  const ca = await createCa(dir);
  const apiserver = await issueCert(ca, dir, 'apiserver', {
    cn: 'kube-apiserver',
    usage: 'server',
    hosts: opts.hosts ?? ['127.0.0.1', 'localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
  });
  const clients: ClusterPki['clients'] = {};
  await Promise.all(
    clusterIdentities(opts.nodes ?? []).map(async (id) => {
      clients[id.name] = { ...(await issueCert(ca, dir, id.name, { cn: id.user, groups: id.groups, usage: 'client' })), user: id.user, groups: id.groups };
    }),
  );
  const kubeletClient = { ...(await issueCert(ca, dir, KUBELET_CLIENT.name, { cn: KUBELET_CLIENT.user, groups: KUBELET_CLIENT.groups, usage: 'client' })), user: KUBELET_CLIENT.user, groups: KUBELET_CLIENT.groups };
  const kubeletServing: ClusterPki['kubeletServing'] = {};
  await Promise.all(
    (opts.nodes ?? []).map(async (n) => {
      const ips = opts.nodeIps?.[n] ?? ['127.0.0.1'];
      kubeletServing[n] = await issueCert(ca, dir, `kubelet-${n}`, { cn: `system:node:${n}`, groups: ['system:nodes'], usage: 'server', hosts: [...new Set([...ips, n])] });
    }),
  );
  return { dir, ca, apiserver, clients, serviceAccount: createServiceAccountKeys(dir), kubeletClient, kubeletServing };
}
