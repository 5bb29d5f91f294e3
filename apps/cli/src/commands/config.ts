// `keel config`: view (secrets redacted unless --raw), get-contexts, current-context,
// use-context and set-context, over the same kubeconfig files kubectl uses. A change is
// written to the file that holds the entry (for the current context: the file whose
// current-context is in force, else the first), as kubectl does with several files.
import { Command } from 'commander';
import { editKubeconfigFile, viewKubeconfig, type NamedContext } from '../kube/kubeconfig';
import { toJson, toYaml } from '../print/objects';
import { padColumns } from '../print/table';
import { action, out, UsageError, type Kube } from './context';

const kubeconfigFlag = (cmd: Command) => cmd.option('--kubeconfig <file>', 'the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)');

function currentContext(kube: Kube): string {
  const name = kube.merged.currentContext;
  if (!name) throw new UsageError('current-context is not set');
  return name;
}

export function registerConfig(program: Command): void {
  const config = program.command('config').description('view and change kubeconfig files (contexts, namespaces)');

  kubeconfigFlag(
    config
      .command('view')
      .description('show the merged kubeconfig')
      .option('--raw', 'show certificates, keys and tokens')
      .option('--minify', 'only what the current context uses')
      .option('--context <name>', 'with --minify: this context instead of the current one')
      .option('-o, --output <format>', 'yaml or json', 'yaml'),
  ).action(
    action((kube, flags: { raw?: boolean; minify?: boolean; context?: string; output: string }) => {
      const view = viewKubeconfig(kube.merged, { raw: flags.raw === true, minify: flags.minify === true, ...(flags.context ? { context: flags.context } : {}) });
      if (flags.output === 'json') out(toJson(view));
      else if (flags.output === 'yaml') out(toYaml(view));
      else throw new UsageError(`--output must be yaml or json, got "${flags.output}"`);
    }),
  );

  kubeconfigFlag(config.command('current-context').description('print the current context')).action(action((kube) => out(currentContext(kube))));

  kubeconfigFlag(
    config
      .command('get-contexts')
      .description('list contexts')
      .argument('[names...]')
      .option('-o, --output <format>', 'name: only the names')
      .option('--no-headers', 'leave the header out'),
  ).action(
    action((kube, names: string[], flags: { output?: string; headers: boolean }) => {
      const all = [...kube.merged.contexts.values()];
      const missing = names.filter((n) => !kube.merged.contexts.has(n));
      if (missing.length) throw new UsageError(`context ${missing.map((n) => `"${n}"`).join(', ')} not found`);
      const chosen = names.length ? all.filter((c) => names.includes(c.name)) : all;
      if (flags.output === 'name') return out(chosen.map((c) => c.name).join('\n'));
      const rows = chosen.map((c: NamedContext) => [c.name === kube.merged.currentContext ? '*' : '', c.name, c.context.cluster ?? '', c.context.user ?? '', c.context.namespace ?? '']);
      out(padColumns(flags.headers === false ? rows : [['CURRENT', 'NAME', 'CLUSTER', 'AUTHINFO', 'NAMESPACE'], ...rows]));
    }),
  );

  kubeconfigFlag(config.command('use-context').description('make a context the current one').argument('<name>')).action(
    action((kube, name: string) => {
      if (!kube.merged.contexts.has(name)) throw new UsageError(`no context exists with the name: "${name}"`);
      const file = kube.merged.currentContextFile ?? kube.merged.files[0]!;
      editKubeconfigFile(file, (cfg) => (cfg['current-context'] = name));
      out(`Switched to context "${name}".`);
    }),
  );

  kubeconfigFlag(
    config
      .command('set-context')
      .description('create or change a context: its cluster, user and default namespace')
      .argument('[name]')
      .option('--current', 'change the current context')
      .option('--namespace <ns>', 'the default namespace')
      .option('--cluster <name>', 'the cluster entry')
      .option('--user <name>', 'the user entry'),
  ).action(
    action((kube, nameArg: string | undefined, flags: { current?: boolean; namespace?: string; cluster?: string; user?: string }) => {
      if (flags.current && nameArg) throw new UsageError('you cannot name a context and use --current');
      const name = flags.current ? currentContext(kube) : nameArg;
      if (!name) throw new UsageError('name the context to set, or use --current');
      const existing = kube.merged.contexts.get(name);
      const file = existing?.file ?? kube.merged.files[0]!;
      editKubeconfigFile(file, (cfg) => {
        cfg.contexts ??= [];
        let entry = cfg.contexts.find((c) => c.name === name);
        if (!entry) {
          entry = { name, context: {} };
          cfg.contexts.push(entry);
        }
        entry.context ??= {};
        if (flags.namespace !== undefined) entry.context.namespace = flags.namespace;
        if (flags.cluster !== undefined) entry.context.cluster = flags.cluster;
        if (flags.user !== undefined) entry.context.user = flags.user;
      });
      out(`Context "${name}" ${existing ? 'modified' : 'created'}.`);
    }),
  );
}
