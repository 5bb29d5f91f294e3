// What every cluster command shares: the connection flags kubectl has (--kubeconfig,
// --context, -n, --server, --token, --insecure-skip-tls-verify), the client and discovery
// they lead to (made once, on first use), object paths, and one error printer so every
// failure exits non-zero with kubectl's wording.
import { Command, Option } from 'commander';
import { Discovery, UnknownResourceError, resourcePath, type ResourceInfo } from '../kube/discovery';
import { KubeconfigError, clientConfig, kubeconfigFiles, loadKubeconfig, type ClientConfig, type MergedKubeconfig } from '../kube/kubeconfig';
import { ApiStatusError, ConnectionError, RestClient } from '../kube/rest';
import { JsonPathError } from '../print/jsonpath';
import { red } from '../print/progress';

export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  server?: string;
  token?: string;
  insecureSkipTlsVerify?: boolean;
}

/** A user error (bad argument or flag combination): printed as `error: …`, exit 1. */
export class UsageError extends Error {}

export function withKubeFlags(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <file>', 'the kubeconfig file to use (default: $KUBECONFIG, else ~/.kube/config, else keel up\'s)')
    .option('--context <name>', 'the kubeconfig context to use')
    .option('-n, --namespace <ns>', "the namespace (default: the context's, else default)")
    .option('-s, --server <url>', 'the API server URL, instead of the context cluster\'s')
    .option('--token <token>', 'a bearer token, instead of the context user\'s credentials')
    .addOption(new Option('--insecure-skip-tls-verify', 'do not check the server certificate (insecure)'));
}

export class Kube {
  private clientValue: RestClient | undefined;
  private discoveryValue: Discovery | undefined;
  private configValue: ClientConfig | undefined;
  private mergedValue: MergedKubeconfig | undefined;

  constructor(readonly flags: KubeFlags) {}

  get merged(): MergedKubeconfig {
    this.mergedValue ??= loadKubeconfig(kubeconfigFiles(process.env, this.flags.kubeconfig));
    return this.mergedValue;
  }

  get config(): ClientConfig {
    this.configValue ??= clientConfig(this.merged, {
      ...(this.flags.context !== undefined ? { context: this.flags.context } : {}),
      ...(this.flags.namespace !== undefined ? { namespace: this.flags.namespace } : {}),
      ...(this.flags.server !== undefined ? { server: this.flags.server } : {}),
      ...(this.flags.token !== undefined ? { token: this.flags.token } : {}),
      ...(this.flags.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
    });
    return this.configValue;
  }

  get client(): RestClient {
    this.clientValue ??= new RestClient(this.config);
    return this.clientValue;
  }

  get discovery(): Discovery {
    this.discoveryValue ??= new Discovery(this.client);
    return this.discoveryValue;
  }

  get namespace(): string {
    return this.config.namespace;
  }

  path(info: ResourceInfo, name?: string, namespace: string = this.namespace, sub?: string): string {
    return resourcePath(info, namespace, name, sub);
  }

  close(): void {
    this.clientValue?.close();
  }
}

/** Flags from the program down to the verb; the verb's own win over those given before it. */
export function flagsOf(cmd: Command): KubeFlags {
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) chain.unshift(c);
  const merged: Record<string, unknown> = {};
  for (const c of chain) for (const [k, v] of Object.entries(c.opts())) if (v !== undefined) merged[k] = v;
  return merged as KubeFlags;
}

/** The line an error prints as. */
export function errorLine(err: unknown): string {
  // kubectl's words when the server does not know who we are.
  if (err instanceof ApiStatusError && err.code === 401) return 'error: You must be logged in to the server (Unauthorized)';
  if (err instanceof ApiStatusError) return err.display;
  if (err instanceof ConnectionError || err instanceof KubeconfigError || err instanceof UnknownResourceError || err instanceof UsageError || err instanceof JsonPathError) {
    return `error: ${err.message}`;
  }
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * Runs a command's action with a Kube made from its flags; prints any failure as kubectl
 * does and sets a non-zero exit code. The client's sockets are closed afterwards so the
 * process can end.
 */
export function action<A extends unknown[]>(fn: (kube: Kube, ...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    const kube = new Kube(flagsOf(cmd));
    try {
      await fn(kube, ...args);
    } catch (err) {
      if (err instanceof ExitCode) {
        if (err.message) process.stderr.write(err.message + '\n');
        process.exitCode = err.code;
      } else {
        process.stderr.write(red(errorLine(err)) + '\n');
        process.exitCode = 1;
      }
    } finally {
      kube.close();
    }
  };
}

/** A failure with a chosen exit code (exec's remote exit code); its message, if any, is printed as is. */
export class ExitCode extends Error {
  constructor(readonly code: number, message = '') {
    super(message);
  }
}

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') || text === '' ? text : text + '\n');
}

/** Splits `TYPE NAME…`, `TYPE/NAME…` and `TYPE1,TYPE2` arguments into per-type name lists. */
export function typeNameArgs(args: string[]): { type: string; names: string[] }[] {
  if (args.length === 0) return [];
  if (args.some((a) => a.includes('/'))) {
    const out: { type: string; names: string[] }[] = [];
    for (const a of args) {
      const slash = a.indexOf('/');
      if (slash <= 0 || slash === a.length - 1) throw new UsageError(`there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (got "${a}")`);
      const type = a.slice(0, slash);
      const name = a.slice(slash + 1);
      const last = out.find((o) => o.type === type);
      if (last) last.names.push(name);
      else out.push({ type, names: [name] });
    }
    return out;
  }
  const [types, ...names] = args;
  return types!.split(',').filter((t) => t !== '').map((type) => ({ type, names }));
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Parses kubectl durations: 30s, 5m, 1h, 0 (none), or plain seconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`invalid value "${text}" for ${flag}: expected a duration like 30s, 5m or 1h`);
  const n = Number(m[1]);
  return n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] ?? 1000);
}
