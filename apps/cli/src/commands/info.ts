// `keel version` (client, then the server's /version), `keel api-resources` (from
// discovery, kubectl's columns) and `keel completion bash` (a completion script made from
// the commands this program has, with resource types completed from the live cluster).
import { Command } from 'commander';
import { toJson, toYaml } from '../print/objects';
import { padColumns } from '../print/table';
import { action, errorLine, out, UsageError, withKubeFlags } from './context';

export function registerInfo(program: Command, version: string): void {
  withKubeFlags(
    program
      .command('version')
      .description('print the client version and, when a cluster answers, the server version')
      .option('--client', 'only the client version')
      .option('-o, --output <format>', 'yaml or json'),
  ).action(
    action(async (kube, flags: { client?: boolean; output?: string }) => {
      const client = { gitVersion: `v${version}`, keelVersion: version, nodeVersion: process.versions.node, platform: `${process.platform}/${process.arch}` };
      let server: { gitVersion?: string; platform?: string } | undefined;
      let serverError: unknown;
      if (!flags.client) {
        try {
          server = await kube.client.get('/version');
        } catch (err) {
          serverError = err;
        }
      }
      if (flags.output === 'json' || flags.output === 'yaml') {
        const doc = { clientVersion: client, ...(server ? { serverVersion: server } : {}) };
        out(flags.output === 'json' ? toJson(doc) : toYaml(doc));
      } else if (flags.output !== undefined) {
        throw new UsageError(`--output must be yaml or json, got "${flags.output}"`);
      } else {
        out(`Client Version: keel ${version} (node ${process.versions.node})`);
        if (server) out(`Server Version: ${server.gitVersion ?? 'unknown'}`);
      }
      if (serverError) {
        process.stderr.write(errorLine(serverError) + '\n');
        process.exitCode = 1;
      }
    }),
  );

  withKubeFlags(
    program
      .command('api-resources')
      .description('list the resource types the server serves')
      .option('-o, --output <format>', 'wide (adds VERBS) or name')
      .option('--namespaced <bool>', 'only namespaced (true) or cluster-scoped (false) types')
      .option('--api-group <group>', 'only this API group ("" for the core group)')
      .option('--no-headers', 'leave the header out'),
  ).action(
    action(async (kube, flags: { output?: string; namespaced?: string; apiGroup?: string; headers: boolean }) => {
      let all = await kube.discovery.resources();
      if (flags.namespaced !== undefined) all = all.filter((r) => r.namespaced === (flags.namespaced === 'true'));
      if (flags.apiGroup !== undefined) all = all.filter((r) => r.group === flags.apiGroup);
      all = [...all].sort((a, b) => a.group.localeCompare(b.group) || a.resource.localeCompare(b.resource));
      if (flags.output === 'name') return out(all.map((r) => (r.group ? `${r.resource}.${r.group}` : r.resource)).join('\n'));
      const wide = flags.output === 'wide';
      if (flags.output !== undefined && !wide) throw new UsageError(`--output must be wide or name, got "${flags.output}"`);
      const header = ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND', ...(wide ? ['VERBS'] : [])];
      const rows = all.map((r) => [r.resource, r.shortNames.join(','), r.groupVersion, String(r.namespaced), r.kind, ...(wide ? [`[${r.verbs.join(' ')}]`] : [])]);
      out(padColumns(flags.headers === false ? rows : [header, ...rows]));
    }),
  );

  program
    .command('completion')
    .description('print a shell completion script: source <(keel completion bash)')
    .argument('<shell>', 'bash')
    .action((shell: string) => {
      if (shell !== 'bash') {
        process.stderr.write(`error: unsupported shell type "${shell}" (keel completes bash)\n`);
        process.exitCode = 1;
        return;
      }
      out(bashCompletion(program));
    });
}

/** A bash completion script: sub-commands, their flags, and resource types from `keel api-resources -o name`. */
export function bashCompletion(program: Command): string {
  const cmds = program.commands.filter((c) => c.name() !== 'help');
  const cases = cmds
    .map((c) => {
      const subs = c.commands.map((s) => s.name());
      const flags = c.options.flatMap((o) => [o.long, o.short].filter((f): f is string => !!f));
      return `    ${c.name()}) subs="${subs.join(' ')}"; flags="${flags.join(' ')}" ;;`;
    })
    .join('\n');
  const typed = ['get', 'describe', 'delete', 'edit', 'label', 'annotate', 'scale', 'explain'].filter((n) => cmds.some((c) => c.name() === n));
  return `# bash completion for keel; load with: source <(keel completion bash)
_keel() {
  local cur prev cmd subs flags
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${cmds.map((c) => c.name()).join(' ')}" -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$flags" -- "$cur") )
    return
  fi
  if [ -n "$subs" ] && [ "$COMP_CWORD" -eq 2 ]; then
    COMPREPLY=( $(compgen -W "$subs" -- "$cur") )
    return
  fi
  case "$cmd" in
    ${typed.join('|')})
      if [ "$COMP_CWORD" -eq 2 ]; then
        COMPREPLY=( $(compgen -W "$(keel api-resources -o name 2>/dev/null | sed 's/\\..*//') all" -- "$cur") )
      else
        COMPREPLY=( $(compgen -W "$(keel get "\${COMP_WORDS[2]}" -o name 2>/dev/null | sed 's|.*/||')" -- "$cur") )
      fi ;;
    config)
      if [ "$prev" = "use-context" ]; then
        COMPREPLY=( $(compgen -W "$(keel config get-contexts -o name 2>/dev/null)" -- "$cur") )
      fi ;;
  esac
}
complete -F _keel keel
`;
}
