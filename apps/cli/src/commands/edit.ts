// `keel edit TYPE NAME`: the object as YAML in $KUBE_EDITOR or $EDITOR (vi by default), then a
// PUT of what was saved, carrying the resourceVersion it was read at, so someone else's change
// in between is a Conflict, not silently overwritten. As kubectl does, an edit the server
// rejects (invalid, a conflict, a bad request) or that does not parse reopens the editor on
// the user's edited text, with the failure as a comment block on top; saving that unchanged
// gives up and keeps a copy of the edits in a file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { parse } from 'yaml';
import { kindName, type ResourceInfo } from '../kube/discovery';
import { ApiStatusError } from '../kube/rest';
import { toYaml, type KubeObj } from '../print/objects';
import { action, errorLine, out, typeNameArgs, UsageError, withKubeFlags, type Kube } from './context';

const HEADER = `# Please edit the object below. Lines beginning with a '#' will be ignored,
# and an empty file will abort the edit. If an error occurs while saving this file will be
# reopened with the relevant failures.
#
`;

/** Why the last save failed: a headline and its details (one per field), as kubectl's editReason. */
export interface EditReason {
  head: string;
  other?: string[];
}

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

/** The comment block on top of the file: the instructions, then each failure (kubectl's editHeader.writeTo). */
export function editHeader(reasons: readonly EditReason[]): string {
  const comment = (s: string) => s.replace(/\n/g, '\n# ');
  let text = HEADER;
  for (const r of reasons) {
    text += `# ${comment(r.head)}${r.other?.length ? ':' : ''}\n`;
    for (const o of r.other ?? []) text += `# * ${comment(o)}\n`;
    text += '#\n';
  }
  return text;
}

/** `configmaps` or `deployments.apps`, as kubectl names a resource in edit's messages. */
function resourceString(info: Pick<ResourceInfo, 'resource' | 'group'>): string {
  return info.group ? `${info.resource}.${info.group}` : info.resource;
}

/**
 * The reason to show for a rejected save, or undefined when reopening cannot help (the object
 * is gone, access is denied, the server failed). `latestVersion` is the object's resourceVersion
 * now, read after a Conflict.
 */
export function rejectionReason(err: ApiStatusError, info: Pick<ResourceInfo, 'resource' | 'group'>, name: string, mine?: string, latestVersion?: string): EditReason | undefined {
  const what = `${resourceString(info)} "${name}"`;
  if (err.code === 422) {
    const causes = (err.status.details?.causes ?? []).map((c) => (c.field ? `${c.field}: ${c.message ?? ''}` : (c.message ?? '')));
    return { head: `${what} was not valid`, other: causes.length ? causes : [err.message] };
  }
  if (err.code === 409) {
    const other = [err.message];
    if (latestVersion && latestVersion !== mine) {
      other.push(`it changed on the server since you opened it: to save your version over that change, set metadata.resourceVersion to "${latestVersion}" (yours is "${mine ?? ''}"); to give up, save the file unchanged`);
    }
    return { head: `${what} could not be saved`, other };
  }
  if (err.code === 400) return { head: `${what} could not be saved`, other: [err.message] };
  return undefined;
}

/** Runs the editor on `file`; a UsageError when it could not run or did not exit 0. */
function runEditor(file: string): void {
  const editor = editorCommand(process.env);
  const run = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'keel-edit', file], { stdio: 'inherit' });
  if (run.error) throw new UsageError(`could not run the editor "${editor}": ${run.error.message}`);
  if (run.status !== 0) throw new UsageError(`the editor "${editor}" exited with ${run.status ?? run.signal}; nothing was changed`);
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
  // What the file holds below the header: the object, then after a failed save the user's own text.
  let body = original;
  let reasons: EditReason[] = [];
  let keep = false;
  const storeCopy = () => {
    keep = true;
    process.stderr.write(`A copy of your changes has been stored to "${file}"\n`);
  };
  const preserve = (message: string): never => {
    storeCopy();
    throw new UsageError(message);
  };
  try {
    for (;;) {
      writeFileSync(file, editHeader(reasons) + body);
      try {
        runEditor(file);
      } catch (err) {
        // The user's earlier edits are worth keeping even when the editor failed.
        if (reasons.length > 0) storeCopy();
        throw err;
      }
      const edited = stripComments(readFileSync(file, 'utf8'));
      if (reasons.length > 0 && (edited ?? '').trim() === (stripComments(body) ?? '').trim()) preserve('Edit cancelled, no valid changes were saved.');
      if (edited === undefined) {
        out('Edit cancelled, saved file was empty.');
        return;
      }
      if (edited.trim() === original.trim()) {
        out('Edit cancelled, no changes made.');
        return;
      }
      body = edited.endsWith('\n') ? edited : edited + '\n';
      let next: KubeObj;
      try {
        next = parse(edited) as KubeObj;
      } catch (err) {
        reasons = [{ head: `The edited file had a syntax error: ${(err as Error).message.split('\n')[0]}` }];
        process.stderr.write(`error: the edited file is not valid YAML: ${(err as Error).message.split('\n')[0]}\n`);
        continue;
      }
      if (typeof next !== 'object' || next === null || next.metadata?.name !== name) {
        reasons = [{ head: `metadata.name cannot be changed by an edit (it is "${name}")` }];
        process.stderr.write(`error: metadata.name cannot be changed by an edit (was "${name}")\n`);
        continue;
      }
      try {
        await kube.client.json({ method: 'PUT', path, body: next, query: { fieldManager: 'keel-edit' } });
      } catch (err) {
        if (!(err instanceof ApiStatusError)) {
          storeCopy();
          throw err;
        }
        const latest = err.code === 409 ? await kube.client.get<KubeObj>(path).then((o) => o.metadata?.resourceVersion, () => undefined) : undefined;
        const reason = rejectionReason(err, info, name, next.metadata?.resourceVersion, latest);
        process.stderr.write(`${errorLine(err)}\n`);
        // Reopening cannot help when the object is gone, access is denied or the server failed.
        if (!reason) return preserve(`${kindName(info)} "${name}" could not be saved`);
        reasons = [reason];
        continue;
      }
      out(`${kindName(info)}/${name} edited`);
      return;
    }
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
