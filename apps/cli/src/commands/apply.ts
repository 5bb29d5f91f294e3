// `keel apply -f` and `keel create -f`.
//
// apply is server-side apply (PATCH application/apply-patch+yaml, fieldManager `keel`), not
// kubectl's client-side three-way merge: the server already owns merge semantics (managed
// fields, list merge keys), so there is no last-applied annotation to keep in step and no
// strategic-merge patch to compute here; `keel up` applies the same way, so both agree on
// who owns which field. kubectl's `created | configured | unchanged` comes from comparing the
// object's resourceVersion before and after the patch (the server does not write an object
// that an apply leaves as it was).
import { Command } from 'commander';
import { kindName, type ResourceInfo } from '../kube/discovery';
import { readManifests, type Manifest } from '../kube/manifests';
import { ApiStatusError } from '../kube/rest';
import { objectName, sortKeys, type KubeObj } from '../print/objects';
import { action, errorLine, out, UsageError, withKubeFlags, type Kube } from './context';

interface ApplyFlags {
  filename?: string[];
  recursive?: boolean;
  forceConflicts?: boolean;
  dryRun?: string;
  output?: string;
  fieldManager: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The namespace an object goes to: its own, else -n / the context's; a clash with -n is an error. */
export function targetNamespace(kube: Kube, info: ResourceInfo, m: Manifest): string | undefined {
  if (!info.namespaced) return undefined;
  const own = m.obj.metadata?.namespace;
  if (own && kube.flags.namespace && own !== kube.flags.namespace) {
    throw new UsageError(`the namespace from the provided object "${own}" does not match the namespace "${kube.flags.namespace}". You must pass '--namespace=${own}' to perform this operation.`);
  }
  return own ?? kube.namespace;
}

/** The object without what its controllers and the server change on their own (status, versions, field ownership). */
function declared(o: KubeObj): string {
  const { resourceVersion: _rv, managedFields: _mf, ...md } = o.metadata ?? {};
  const { status: _status, ...rest } = o;
  return JSON.stringify(sortKeys({ ...rest, metadata: md }));
}

/**
 * Whether an apply changed nothing. The same resourceVersion is proof; a different one may
 * come from a controller writing status between our GET and PATCH, so compare what is declared.
 */
export function sameDeclared(before: KubeObj, after: KubeObj): boolean {
  return before.metadata?.resourceVersion === after.metadata?.resourceVersion || declared(before) === declared(after);
}

async function applyOne(kube: Kube, m: Manifest, flags: ApplyFlags): Promise<string> {
  const info = await kube.discovery.forKind(m.obj.apiVersion!, m.obj.kind!);
  const ns = targetNamespace(kube, info, m);
  const name = m.obj.metadata!.name!;
  const path = kube.path(info, name, ns);
  let before: KubeObj | undefined;
  try {
    before = await kube.client.get<KubeObj>(path);
  } catch (err) {
    if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
  }
  const body = { ...m.obj, metadata: { ...m.obj.metadata, ...(ns ? { namespace: ns } : {}) } };
  const after = await kube.client.json<KubeObj>({
    method: 'PATCH',
    path,
    query: { fieldManager: flags.fieldManager, force: flags.forceConflicts ? 'true' : 'false', ...(flags.dryRun === 'server' ? { dryRun: 'All' } : {}) },
    body: JSON.stringify(body),
    contentType: 'application/apply-patch+yaml',
  });
  const result = before === undefined ? 'created' : sameDeclared(before, after) ? 'unchanged' : 'configured';
  const dry = flags.dryRun === 'server' ? ' (server dry run)' : '';
  return flags.output === 'name' ? objectName(after) : `${kindName(info)}/${name} ${result}${dry}`;
}

async function createOne(kube: Kube, m: Manifest, flags: ApplyFlags): Promise<string> {
  const info = await kube.discovery.forKind(m.obj.apiVersion!, m.obj.kind!);
  const ns = targetNamespace(kube, info, m);
  const created = await kube.client.json<KubeObj>({
    method: 'POST',
    path: kube.path(info, undefined, ns),
    query: { fieldManager: 'keel-create', ...(flags.dryRun === 'server' ? { dryRun: 'All' } : {}) },
    body: { ...m.obj, metadata: { ...m.obj.metadata, ...(ns ? { namespace: ns } : {}) } },
  });
  return flags.output === 'name' ? objectName(created) : `${kindName(info)}/${created.metadata?.name ?? m.obj.metadata?.name} created`;
}

/** Runs one call per manifest; a failing object is reported and the rest still go (as kubectl). */
async function each(kube: Kube, flags: ApplyFlags, one: (kube: Kube, m: Manifest, flags: ApplyFlags) => Promise<string>): Promise<void> {
  if (flags.dryRun !== undefined && flags.dryRun !== 'server' && flags.dryRun !== 'none') throw new UsageError(`invalid --dry-run value "${flags.dryRun}": keel supports "server" and "none"`);
  const manifests = readManifests(flags.filename ?? [], flags.recursive === true);
  let failed = false;
  for (const m of manifests) {
    try {
      out(await one(kube, m, flags));
    } catch (err) {
      if (!(err instanceof ApiStatusError)) throw err;
      process.stderr.write(`${errorLine(err)}${err.code === 409 && one === applyOne ? ' (take the fields over with --force-conflicts)' : ''}\n`);
      failed = true;
    }
  }
  if (failed) process.exitCode = 1;
}

export function registerApply(program: Command): void {
  withKubeFlags(
    program
      .command('apply')
      .description('create or update objects from manifests (server-side apply, field manager "keel")')
      .option('-f, --filename <path>', 'a file, a folder, or - for stdin (repeatable)', collect)
      .option('-R, --recursive', 'descend into sub-folders of -f folders')
      .option('--force-conflicts', 'take over fields another manager owns')
      .option('--field-manager <name>', 'the field manager name', 'keel')
      .option('--dry-run <mode>', 'server: validate on the server, store nothing')
      .option('-o, --output <format>', 'name: print only kind/name'),
  ).action(action((kube, flags: ApplyFlags) => each(kube, flags, applyOne)));

  withKubeFlags(
    program
      .command('create')
      .description('create objects from manifests (fails on objects that exist)')
      .option('-f, --filename <path>', 'a file, a folder, or - for stdin (repeatable)', collect)
      .option('-R, --recursive', 'descend into sub-folders of -f folders')
      .option('--dry-run <mode>', 'server: validate on the server, store nothing')
      .option('-o, --output <format>', 'name: print only kind/name'),
  ).action(action((kube, flags: ApplyFlags) => each(kube, { ...flags, fieldManager: 'keel-create' }, createOne)));
}
