// Kubeconfig files as kubectl reads them: KUBECONFIG may list several files (merged, the
// first file to define a name or the current context wins), else ~/.kube/config; Keel's own
// `keel up` kubeconfig is the last fallback so a fresh machine works without copying it.
// Resolves the context to use (--context), its cluster and user, the namespace (-n, then the
// context's), and the --server/--token overrides, into what the REST client needs.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

export interface NamedCluster {
  name: string;
  cluster: {
    server?: string;
    'certificate-authority'?: string;
    'certificate-authority-data'?: string;
    'insecure-skip-tls-verify'?: boolean;
    'tls-server-name'?: string;
  };
}

export interface NamedUser {
  name: string;
  user: {
    'client-certificate'?: string;
    'client-certificate-data'?: string;
    'client-key'?: string;
    'client-key-data'?: string;
    token?: string;
    tokenFile?: string;
    username?: string;
    password?: string;
  };
}

export interface NamedContext {
  name: string;
  context: { cluster?: string; user?: string; namespace?: string };
}

export interface KubeconfigFile {
  apiVersion?: string;
  kind?: string;
  clusters?: NamedCluster[];
  users?: NamedUser[];
  contexts?: NamedContext[];
  'current-context'?: string;
  preferences?: Record<string, unknown>;
}

/** A merged view, remembering which file each entry came from (relative paths resolve there). */
export interface MergedKubeconfig {
  files: string[];
  clusters: Map<string, NamedCluster & { file: string }>;
  users: Map<string, NamedUser & { file: string }>;
  contexts: Map<string, NamedContext & { file: string }>;
  currentContext?: string;
  /** The file whose current-context is in force (where use-context writes). */
  currentContextFile?: string;
}

export interface Overrides {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  server?: string;
  token?: string;
  insecureSkipTlsVerify?: boolean;
}

/** What the REST client needs to reach the server as this user. */
export interface ClientConfig {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  basic?: { username: string; password: string };
  insecure: boolean;
  servername?: string;
  namespace: string;
  /** Where this came from, for error messages. */
  contextName?: string;
  files: string[];
}

export class KubeconfigError extends Error {}

/** The kubeconfig files in force: --kubeconfig, else $KUBECONFIG's list, else ~/.kube/config, else keel up's. */
export function kubeconfigFiles(env: NodeJS.ProcessEnv, explicit?: string, home = homedir()): string[] {
  if (explicit) return [resolve(explicit)];
  const list = (env['KUBECONFIG'] ?? '').split(delimiter).filter((f) => f !== '');
  if (list.length > 0) return [...new Set(list.map((f) => resolve(f)))];
  const kube = join(home, '.kube', 'config');
  const keel = join(home, '.keel', 'keel-local', 'kubeconfig');
  if (!existsSync(kube) && existsSync(keel)) return [keel];
  return [kube];
}

export function parseKubeconfig(text: string, file: string): KubeconfigFile {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new KubeconfigError(`kubeconfig ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new KubeconfigError(`kubeconfig ${file} is not a YAML mapping`);
  const cfg = doc as KubeconfigFile;
  for (const key of ['clusters', 'users', 'contexts'] as const) {
    const list = cfg[key];
    if (list !== undefined && list !== null && !Array.isArray(list)) throw new KubeconfigError(`kubeconfig ${file}: ${key} must be a list`);
    for (const [i, entry] of (list ?? []).entries()) {
      if (typeof entry?.name !== 'string') throw new KubeconfigError(`kubeconfig ${file}: ${key}[${i}].name is missing`);
    }
  }
  return cfg;
}

/** Merges files in order: the first to define a name (or current-context) wins, as kubectl does. */
export function mergeKubeconfigs(files: { file: string; config: KubeconfigFile }[]): MergedKubeconfig {
  const merged: MergedKubeconfig = { files: files.map((f) => f.file), clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const { file, config } of files) {
    for (const c of config.clusters ?? []) if (!merged.clusters.has(c.name)) merged.clusters.set(c.name, { ...c, cluster: c.cluster ?? {}, file });
    for (const u of config.users ?? []) if (!merged.users.has(u.name)) merged.users.set(u.name, { ...u, user: u.user ?? {}, file });
    for (const c of config.contexts ?? []) if (!merged.contexts.has(c.name)) merged.contexts.set(c.name, { ...c, context: c.context ?? {}, file });
    if (merged.currentContext === undefined && config['current-context']) {
      merged.currentContext = config['current-context'];
      merged.currentContextFile = file;
    }
  }
  return merged;
}

export function loadKubeconfig(files: string[], read: (f: string) => string | undefined = readIfExists): MergedKubeconfig {
  const loaded: { file: string; config: KubeconfigFile }[] = [];
  for (const file of files) {
    const text = read(file);
    if (text !== undefined) loaded.push({ file, config: parseKubeconfig(text, file) });
  }
  const merged = mergeKubeconfigs(loaded);
  merged.files = files;
  return merged;
}

function readIfExists(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

function fileOrData(base: string, file: string | undefined, data: string | undefined, what: string, readFile: (f: string) => Buffer): Buffer | undefined {
  if (data) return Buffer.from(data, 'base64');
  if (!file) return undefined;
  const path = isAbsolute(file) ? file : join(dirname(base), file);
  try {
    return readFile(path);
  } catch (err) {
    throw new KubeconfigError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Resolves the context and overrides into a client configuration. */
export function clientConfig(merged: MergedKubeconfig, o: Overrides, readFile: (f: string) => Buffer = (f) => readFileSync(f)): ClientConfig {
  const contextName = o.context ?? merged.currentContext;
  const ctx = contextName !== undefined ? merged.contexts.get(contextName) : undefined;
  if (o.context !== undefined && !ctx) throw new KubeconfigError(`context "${o.context}" does not exist in ${merged.files.join(', ')}`);
  const cluster = ctx?.context.cluster !== undefined ? merged.clusters.get(ctx.context.cluster) : undefined;
  const user = ctx?.context.user !== undefined ? merged.users.get(ctx.context.user) : undefined;
  const server = o.server ?? cluster?.cluster.server;
  if (!server) {
    if (merged.contexts.size === 0 && merged.clusters.size === 0) {
      throw new KubeconfigError(
        `no kubeconfig found (looked at ${merged.files.join(', ')}): start a local cluster with "keel up", set KUBECONFIG, or pass --kubeconfig or --server`,
      );
    }
    throw new KubeconfigError(
      contextName === undefined
        ? `no current context in ${merged.files.join(', ')}: choose one with "keel config use-context NAME" or --context`
        : `context "${contextName}" has no cluster with a server in ${merged.files.join(', ')}`,
    );
  }
  const cfg: ClientConfig = {
    server: server.replace(/\/+$/, ''),
    insecure: o.insecureSkipTlsVerify ?? cluster?.cluster['insecure-skip-tls-verify'] === true,
    namespace: o.namespace ?? ctx?.context.namespace ?? 'default',
    files: merged.files,
    ...(contextName !== undefined ? { contextName } : {}),
  };
  if (cluster) {
    const ca = fileOrData(cluster.file, cluster.cluster['certificate-authority'], cluster.cluster['certificate-authority-data'], 'certificate-authority', readFile);
    if (ca) cfg.ca = ca;
    if (cluster.cluster['tls-server-name']) cfg.servername = cluster.cluster['tls-server-name'];
  }
  if (o.token !== undefined) {
    cfg.token = o.token;
  } else if (user) {
    const u = user.user;
    const cert = fileOrData(user.file, u['client-certificate'], u['client-certificate-data'], 'client-certificate', readFile);
    const key = fileOrData(user.file, u['client-key'], u['client-key-data'], 'client-key', readFile);
    if (cert) cfg.cert = cert;
    if (key) cfg.key = key;
    if (u.token) cfg.token = u.token;
    else if (u.tokenFile) cfg.token = fileOrData(user.file, u.tokenFile, undefined, 'tokenFile', readFile)!.toString('utf8').trim();
    if (u.username !== undefined && u.password !== undefined) cfg.basic = { username: u.username, password: u.password };
    if ((cert === undefined) !== (key === undefined)) throw new KubeconfigError(`user "${user.name}" has a client certificate without a key (or a key without a certificate)`);
  }
  return cfg;
}

/** Edits one kubeconfig file in place (read, change, write back with mode 0600). */
export function editKubeconfigFile(file: string, change: (cfg: KubeconfigFile) => void): void {
  const text = readIfExists(file);
  const cfg: KubeconfigFile = text !== undefined ? parseKubeconfig(text, file) : { apiVersion: 'v1', kind: 'Config' };
  change(cfg);
  cfg.apiVersion ??= 'v1';
  cfg.kind ??= 'Config';
  writeFileSync(file, stringify(cfg, { indentSeq: false }), { mode: 0o600 });
}

/** The merged view as one kubeconfig document (config view); secrets redacted unless raw. */
export function viewKubeconfig(merged: MergedKubeconfig, opts: { raw?: boolean; minify?: boolean; context?: string }): KubeconfigFile {
  const redact = <T extends Record<string, unknown>>(o: T): T => {
    if (opts.raw) return o;
    const out: Record<string, unknown> = { ...o };
    for (const k of Object.keys(out)) {
      if (k.endsWith('-data')) out[k] = 'DATA+OMITTED';
      if (k === 'token' || k === 'password') out[k] = 'REDACTED';
    }
    return out as T;
  };
  let contexts = [...merged.contexts.values()];
  const current = opts.context ?? merged.currentContext;
  if (opts.minify) contexts = contexts.filter((c) => c.name === current);
  const clusterNames = new Set(contexts.map((c) => c.context.cluster));
  const userNames = new Set(contexts.map((c) => c.context.user));
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [...merged.clusters.values()].filter((c) => !opts.minify || clusterNames.has(c.name)).map((c) => ({ name: c.name, cluster: redact(c.cluster) })),
    contexts: contexts.map((c) => ({ name: c.name, context: c.context })),
    'current-context': current ?? '',
    preferences: {},
    users: [...merged.users.values()].filter((u) => !opts.minify || userNames.has(u.name)).map((u) => ({ name: u.name, user: redact(u.user) })),
  };
}
