// `keel rollout status|history|undo|restart` for Deployments and DaemonSets. status follows
// the workload until every replica (pod) runs the newest template and is available (with
// kubectl's messages; a spinner only on a terminal); history and undo read the revisions the
// controllers write: a Deployment's on its ReplicaSets, a DaemonSet's as ControllerRevisions
// (rollout-daemonset.ts); restart stamps the pod template.
import { Command } from 'commander';
import { kindName, type ResourceInfo } from '../kube/discovery';
import { sortKeys, toYaml, type KubeObj } from '../print/objects';
import { padColumns } from '../print/table';
import { Spinner } from '../print/progress';
import { daemonSetStatus, ownedRevisions, revisionTemplate, undoRevision, type ControllerRevisionObj, type DaemonSetObj } from './rollout-daemonset';
import { action, out, parseDuration, sleep, typeNameArgs, UsageError, withKubeFlags, type Kube } from './context';

const REVISION = 'deployment.kubernetes.io/revision';

interface DeploymentObj extends KubeObj {
  spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> }; template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string }[];
  };
}

/** kubectl's rollout status line for a Deployment, and whether it is done. */
export function deploymentStatus(d: DeploymentObj): { done: boolean; message: string; failed?: boolean } {
  const name = d.metadata?.name;
  const st = d.status ?? {};
  if ((d.metadata?.generation ?? 0) > (st.observedGeneration ?? 0)) return { done: false, message: 'Waiting for deployment spec update to be observed...' };
  if (st.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded')) {
    return { done: true, failed: true, message: `deployment "${name}" exceeded its progress deadline` };
  }
  const want = d.spec?.replicas ?? 1;
  const updated = st.updatedReplicas ?? 0;
  const total = st.replicas ?? 0;
  const available = st.availableReplicas ?? 0;
  if (updated < want) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${want} new replicas have been updated...` };
  if (total > updated) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${total - updated} old replicas are pending termination...` };
  if (available < updated) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...` };
  return { done: true, message: `deployment "${name}" successfully rolled out` };
}

/** The kinds rollout works on. */
type WorkloadKind = 'Deployment' | 'DaemonSet';

interface Workload {
  info: ResourceInfo;
  name: string;
  kind: WorkloadKind;
}

async function workloadArg(kube: Kube, args: string[], verb: string): Promise<Workload> {
  const groups = typeNameArgs(args);
  const g = groups[0];
  if (!g || g.names.length !== 1 || groups.length > 1) throw new UsageError('name one deployment or daemonset, e.g. "deployment/web" or "daemonset web"');
  const info = await kube.discovery.resolve(g.type);
  const name = g.names[0]!;
  if (info.kind !== 'Deployment' && info.kind !== 'DaemonSet') {
    throw new UsageError(`rollout ${verb} is not supported for ${kindName(info)} "${name}": it works on deployments and daemonsets`);
  }
  return { info, name, kind: info.kind };
}

/** One entry of a workload's history: its revision number, change cause and pod template. */
interface RevisionEntry {
  revision: string;
  changeCause?: string;
  template: unknown;
}

async function replicaSets(kube: Kube, d: DeploymentObj): Promise<KubeObj[]> {
  const rs = await kube.discovery.resolve('replicasets.apps');
  const selector = Object.entries(d.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const list = await kube.client.get<{ items: (KubeObj & { spec?: { template?: unknown } })[] }>(kube.path(rs, undefined, d.metadata?.namespace), { labelSelector: selector });
  return list.items
    .filter((r) => r.metadata?.ownerReferences?.some((o) => o.uid === d.metadata?.uid))
    .sort((a, b) => Number(a.metadata?.annotations?.[REVISION] ?? 0) - Number(b.metadata?.annotations?.[REVISION] ?? 0));
}

async function controllerRevisions(kube: Kube, ds: DaemonSetObj): Promise<ControllerRevisionObj[]> {
  const cr = await kube.discovery.resolve('controllerrevisions.apps');
  // The revisions carry the template's labels, so the selector's matchLabels narrow the list; ownership decides.
  const selector = Object.entries(ds.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const list = await kube.client.get<{ items: ControllerRevisionObj[] }>(kube.path(cr, undefined, ds.metadata?.namespace), selector ? { labelSelector: selector } : {});
  return ownedRevisions(ds, list.items);
}

const changeCause = (o: KubeObj) => o.metadata?.annotations?.['kubernetes.io/change-cause'];

/** The workload and its history, oldest revision first. */
async function readHistory(kube: Kube, w: Workload): Promise<{ obj: KubeObj & { spec?: { template?: unknown } }; history: RevisionEntry[] }> {
  if (w.kind === 'DaemonSet') {
    const ds = await kube.client.get<DaemonSetObj>(kube.path(w.info, w.name));
    const history = (await controllerRevisions(kube, ds)).map((r) => ({ revision: String(r.revision ?? '?'), changeCause: changeCause(r), template: revisionTemplate(r) }));
    return { obj: ds, history };
  }
  const d = await kube.client.get<DeploymentObj>(kube.path(w.info, w.name));
  const history = (await replicaSets(kube, d)).map((r) => ({
    revision: r.metadata?.annotations?.[REVISION] ?? '?',
    changeCause: changeCause(r),
    template: (r as { spec?: { template?: unknown } }).spec?.template,
  }));
  return { obj: d, history };
}

async function runStatus(kube: Kube, args: string[], flags: { timeout?: string; watch: string }): Promise<void> {
  const w = await workloadArg(kube, args, 'status');
  const timeoutMs = flags.timeout ? parseDuration(flags.timeout, '--timeout') : 0;
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Number.MAX_SAFE_INTEGER;
  const spinner = new Spinner();
  let last = '';
  try {
    for (;;) {
      const obj = await kube.client.get<KubeObj>(kube.path(w.info, w.name));
      const s = w.kind === 'DaemonSet' ? daemonSetStatus(obj as DaemonSetObj) : deploymentStatus(obj as DeploymentObj);
      if (s.done) {
        spinner.stop();
        if (s.failed) throw new UsageError(s.message);
        out(s.message);
        return;
      }
      // On a terminal the spinner carries the message; otherwise each new message is one line.
      if (spinner.live) spinner.update(s.message);
      else if (s.message !== last) out(s.message);
      last = s.message;
      if (flags.watch === 'false' || Date.now() >= deadline) {
        spinner.stop();
        if (spinner.live) out(s.message);
        if (flags.watch === 'false') return;
        throw new UsageError('timed out waiting for the condition');
      }
      await sleep(1000);
    }
  } finally {
    spinner.stop();
  }
}

async function runHistory(kube: Kube, args: string[], flags: { revision?: string }): Promise<void> {
  const w = await workloadArg(kube, args, 'history');
  const { history } = await readHistory(kube, w);
  if (flags.revision !== undefined) {
    const entry = history.find((r) => r.revision === flags.revision);
    if (!entry) throw new UsageError(`unable to find the specified revision ${flags.revision}`);
    out(`${kindName(w.info)}/${w.name} with revision #${flags.revision}\nPod Template:\n${toYaml(entry.template).replace(/^/gm, '  ')}`);
    return;
  }
  const rows = history.map((r) => [r.revision, r.changeCause ?? '<none>']);
  out(`${kindName(w.info)}/${w.name}\n${padColumns([['REVISION', 'CHANGE-CAUSE'], ...rows])}\n`);
}

function withoutHash(template: { metadata?: { labels?: Record<string, string> } } | undefined): unknown {
  const labels = { ...(template?.metadata?.labels ?? {}) };
  delete labels['pod-template-hash'];
  return { ...template, metadata: { ...template?.metadata, labels } };
}

/** The revision undo goes back to: a Deployment's by its revision annotation, a DaemonSet's by kubectl's findHistory. */
function undoTarget(w: Workload, obj: KubeObj, history: RevisionEntry[], toRevision: string | undefined): { revision: string; template: unknown } {
  if (w.kind === 'DaemonSet') {
    const target = undoRevision(
      history.map((h) => ({ revision: Number(h.revision), entry: h })),
      toRevision,
    ).entry;
    return { revision: target.revision, template: target.template };
  }
  const current = obj.metadata?.annotations?.[REVISION];
  let target: RevisionEntry | undefined;
  if (toRevision !== undefined && toRevision !== '0') {
    target = history.find((r) => r.revision === toRevision);
    if (!target) throw new UsageError(`unable to find specified revision ${toRevision} in history`);
  } else {
    target = [...history].reverse().find((r) => r.revision !== current);
    if (!target) throw new UsageError('no rollout history found for deployment "' + w.name + '": nothing to undo to');
  }
  return { revision: target.revision, template: withoutHash(target.template as { metadata?: { labels?: Record<string, string> } }) };
}

async function runUndo(kube: Kube, args: string[], flags: { toRevision?: string }): Promise<void> {
  const w = await workloadArg(kube, args, 'undo');
  const { obj, history } = await readHistory(kube, w);
  const target = undoTarget(w, obj, history, flags.toRevision);
  if (JSON.stringify(sortKeys(target.template)) === JSON.stringify(sortKeys(obj.spec?.template))) {
    out(`${kindName(w.info)}/${w.name} skipped rollback (current template already matches revision ${target.revision})`);
    return;
  }
  await kube.client.json({
    method: 'PATCH',
    path: kube.path(w.info, w.name),
    body: [
      { op: 'test', path: '/metadata/resourceVersion', value: obj.metadata?.resourceVersion },
      { op: 'replace', path: '/spec/template', value: target.template },
    ],
    contentType: 'application/json-patch+json',
  });
  out(`${kindName(w.info)}/${w.name} rolled back`);
}

async function runRestart(kube: Kube, args: string[]): Promise<void> {
  const w = await workloadArg(kube, args, 'restart');
  await kube.client.json({
    method: 'PATCH',
    path: kube.path(w.info, w.name),
    body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } },
    contentType: 'application/merge-patch+json',
  });
  out(`${kindName(w.info)}/${w.name} restarted`);
}

export function registerRollout(program: Command): void {
  const rollout = program.command('rollout').description('follow and manage Deployment and DaemonSet rollouts');
  withKubeFlags(
    rollout
      .command('status')
      .description('wait until a rollout finishes')
      .argument('<args...>', 'deployment/NAME or daemonset/NAME')
      .option('--timeout <duration>', 'give up after this long, e.g. 2m')
      .option('-w, --watch <bool>', 'keep waiting (false: print the state once)', 'true'),
  ).action(action((kube, args: string[], flags: { timeout?: string; watch: string }) => runStatus(kube, args, flags)));
  withKubeFlags(
    rollout.command('history').description('list revisions').argument('<args...>', 'deployment/NAME or daemonset/NAME').option('--revision <n>', "show one revision's pod template"),
  ).action(action((kube, args: string[], flags: { revision?: string }) => runHistory(kube, args, flags)));
  withKubeFlags(
    rollout.command('undo').description('go back to the previous (or a chosen) revision').argument('<args...>', 'deployment/NAME or daemonset/NAME').option('--to-revision <n>', 'the revision to go back to'),
  ).action(action((kube, args: string[], flags: { toRevision?: string }) => runUndo(kube, args, flags)));
  withKubeFlags(rollout.command('restart').description('replace every pod (stamps the pod template)').argument('<args...>', 'deployment/NAME or daemonset/NAME')).action(
    action((kube, args: string[]) => runRestart(kube, args)),
  );
}
