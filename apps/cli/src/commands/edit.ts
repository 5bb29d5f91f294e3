// `keel edit TYPE NAME`: the object as YAML in $KUBE_EDITOR or $EDITOR (vi by default), then a
// PUT of what was saved, carrying the resourceVersion it was read at, so someone else's change
// in between is a Conflict, not silently overwritten. An edit the server rejects prints the
// server's error (naming the field) and keeps the edited copy in a file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { parse } from 'yaml';
import { kindName } from '../kube/discovery';
import { ApiStatusError } from '../kube/rest';
import { toYaml, type KubeObj } from '../print/objects';
import { action, errorLine, out, typeNameArgs, UsageError, withKubeFlags, type Kube } from './context';

const HEADER = `# Please edit the object below. Lines beginning with a '#' will be ignored,
# and an empty file will abort the edit. If an error occurs while saving this file, it will
# be reported and a copy of your changes kept.
#
`;

/** The editor command line: KUBE_EDITOR, then EDITOR, then vi (run through the shell, as kubectl does). */
export function editorCommand(env: NodeJS.ProcessEnv): string {
  return env['KUBE_EDITOR'] || env['EDITOR'] || 'vi';
}

/** The edited text without comment lines; undefined when nothing is left (abort). */
export function stripComments(text: string): string | undefined {
  const body = text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n');
  return body.trim() === '' ? undefined : body;
}

async function runEdit(kube: Kube, args: string[]): Promise<void> {
  const groups = typeNameArgs(args);
  if (groups.length !== 1 || groups[0]!.names.length !== 1) throw new UsageError('name one object to edit, e.g. "keel edit deployment web" or "keel edit deploy/web"');
  const info = await kube.discovery.resolve(groups[0]!.type);
  const name = groups[0]!.names[0]!;
  const path = kube.path(info, name);
  const obj = await kube.client.get<KubeObj>(path);
  const original = toYaml(obj);
  const dir = mkdtempSync(join(tmpdir(), 'keel-edit-'));
  const file = join(dir, `${info.resource}-${name}.yaml`);
  writeFileSync(file, HEADER + original);
  let keep = false;
  try {
    const editor = editorCommand(process.env);
    const run = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'keel-edit', file], { stdio: 'inherit' });
    if (run.error) throw new UsageError(`could not run the editor "${editor}": ${run.error.message}`);
    if (run.status !== 0) throw new UsageError(`the editor "${editor}" exited with ${run.status ?? run.signal}; nothing was changed`);
    const edited = stripComments(readFileSync(file, 'utf8'));
    if (edited === undefined) {
      out('Edit cancelled, saved file was empty.');
      return;
    }
    if (edited.trim() === original.trim()) {
      out('Edit cancelled, no changes made.');
      return;
    }
    let next: KubeObj;
    try {
      next = parse(edited) as KubeObj;
    } catch (err) {
      keep = true;
      throw new UsageError(`the edited file is not valid YAML: ${(err as Error).message.split('\n')[0]}; your changes are in ${file}`);
    }
    if (next?.metadata?.name !== name) {
      keep = true;
      throw new UsageError(`metadata.name cannot be changed by an edit (was "${name}"); your changes are in ${file}`);
    }
    try {
      await kube.client.json({ method: 'PUT', path, body: next, query: { fieldManager: 'keel-edit' } });
    } catch (err) {
      if (!(err instanceof ApiStatusError)) throw err;
      keep = true;
      process.stderr.write(`error: ${kindName(info)} "${name}" could not be saved:\n${errorLine(err)}\nA copy of your changes has been stored to "${file}"\n`);
      process.exitCode = 1;
      return;
    }
    out(`${kindName(info)}/${name} edited`);
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

export function registerEdit(program: Command): void {
  withKubeFlags(
    program
      .command('edit')
      .description('edit an object in $KUBE_EDITOR or $EDITOR and save it back')
      .argument('<args...>', 'TYPE NAME or TYPE/NAME'),
  ).action(action((kube, args: string[]) => runEdit(kube, args)));
}
