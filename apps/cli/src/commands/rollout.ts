// `keel rollout status|history|undo|restart` for Deployments. status follows the
// Deployment until its newest ReplicaSet has every replica updated and available (with
// kubectl's messages; a spinner only on a terminal); history and undo read the revisions the
// Deployment controller writes on its ReplicaSets; restart stamps the pod template.
import { Command } from 'commander';
import { kindName, type ResourceInfo } from '../kube/discovery';
import { sortKeys, toYaml, type KubeObj } from '../print/objects';
import { padColumns } from '../print/table';
import { Spinner } from '../print/progress';
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

async function deploymentArg(kube: Kube, args: string[]): Promise<{ info: ResourceInfo; name: string }> {
  const groups = typeNameArgs(args);
  const g = groups[0];
  if (!g || g.names.length !== 1 || groups.length > 1) throw new UsageError('name one deployment, e.g. "deployment/web" or "deployment web"');
  const info = await kube.discovery.resolve(g.type);
  if (info.kind !== 'Deployment') throw new UsageError(`rollout works on deployments here, not ${info.resource}`);
  return { info, name: g.names[0]! };
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

async function runStatus(kube: Kube, args: string[], flags: { timeout?: string; watch: string }): Promise<void> {
  const { info, name } = await deploymentArg(kube, args);
  const timeoutMs = flags.timeout ? parseDuration(flags.timeout, '--timeout') : 0;
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Number.MAX_SAFE_INTEGER;
  const spinner = new Spinner();
  let last = '';
  try {
    for (;;) {
      const d = await kube.client.get<DeploymentObj>(kube.path(info, name));
      const s = deploymentStatus(d);
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
  const { info, name } = await deploymentArg(kube, args);
  const d = await kube.client.get<DeploymentObj>(kube.path(info, name));
  const sets = await replicaSets(kube, d);
  if (flags.revision !== undefined) {
    const rs = sets.find((r) => r.metadata?.annotations?.[REVISION] === flags.revision);
    if (!rs) throw new UsageError(`unable to find the specified revision ${flags.revision}`);
    out(`${kindName(info)}/${name} with revision #${flags.revision}\nPod Template:\n${toYaml((rs as { spec?: { template?: unknown } }).spec?.template).replace(/^/gm, '  ')}`);
    return;
  }
  const rows = sets.map((r) => [r.metadata?.annotations?.[REVISION] ?? '?', r.metadata?.annotations?.['kubernetes.io/change-cause'] ?? '<none>']);
  out(`${kindName(info)}/${name}\n${padColumns([['REVISION', 'CHANGE-CAUSE'], ...rows])}\n`);
}

function withoutHash(template: { metadata?: { labels?: Record<string, string> } } | undefined): unknown {
  const labels = { ...(template?.metadata?.labels ?? {}) };
  delete labels['pod-template-hash'];
  return { ...template, metadata: { ...template?.metadata, labels } };
}

async function runUndo(kube: Kube, args: string[], flags: { toRevision?: string }): Promise<void> {
  const { info, name } = await deploymentArg(kube, args);
  const d = await kube.client.get<DeploymentObj>(kube.path(info, name));
  const sets = await replicaSets(kube, d);
  const current = d.metadata?.annotations?.[REVISION];
  let target: KubeObj | undefined;
  if (flags.toRevision !== undefined && flags.toRevision !== '0') {
    target = sets.find((r) => r.metadata?.annotations?.[REVISION] === flags.toRevision);
    if (!target) throw new UsageError(`unable to find specified revision ${flags.toRevision} in history`);
  } else {
    target = [...sets].reverse().find((r) => r.metadata?.annotations?.[REVISION] !== current);
    if (!target) throw new UsageError('no rollout history found for deployment "' + name + '": nothing to undo to');
  }
  const template = withoutHash((target as { spec?: { template?: { metadata?: { labels?: Record<string, string> } } } }).spec?.template);
  if (JSON.stringify(sortKeys(template)) === JSON.stringify(sortKeys(d.spec?.template))) {
    out(`${kindName(info)}/${name} skipped rollback (current template already matches revision ${target.metadata?.annotations?.[REVISION]})`);
    return;
  }
  await kube.client.json({
    method: 'PATCH',
    path: kube.path(info, name),
    body: [
      { op: 'test', path: '/metadata/resourceVersion', value: d.metadata?.resourceVersion },
      { op: 'replace', path: '/spec/template', value: template },
    ],
    contentType: 'application/json-patch+json',
  });
  out(`${kindName(info)}/${name} rolled back`);
}

async function runRestart(kube: Kube, args: string[]): Promise<void> {
  const { info, name } = await deploymentArg(kube, args);
  await kube.client.json({
    method: 'PATCH',
    path: kube.path(info, name),
    body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } },
    contentType: 'application/merge-patch+json',
  });
  out(`${kindName(info)}/${name} restarted`);
}

export function registerRollout(program: Command): void {
  const rollout = program.command('rollout').description('follow and manage Deployment rollouts');
  withKubeFlags(
    rollout
      .command('status')
      .description('wait until a rollout finishes')
      .argument('<args...>', 'deployment/NAME')
      .option('--timeout <duration>', 'give up after this long, e.g. 2m')
      .option('-w, --watch <bool>', 'keep waiting (false: print the state once)', 'true'),
  ).action(action((kube, args: string[], flags: { timeout?: string; watch: string }) => runStatus(kube, args, flags)));
  withKubeFlags(
    rollout.command('history').description('list revisions').argument('<args...>', 'deployment/NAME').option('--revision <n>', "show one revision's pod template"),
  ).action(action((kube, args: string[], flags: { revision?: string }) => runHistory(kube, args, flags)));
  withKubeFlags(
    rollout.command('undo').description('go back to the previous (or a chosen) revision').argument('<args...>', 'deployment/NAME').option('--to-revision <n>', 'the revision to go back to'),
  ).action(action((kube, args: string[], flags: { toRevision?: string }) => runUndo(kube, args, flags)));
  withKubeFlags(rollout.command('restart').description('replace every pod (stamps the pod template)').argument('<args...>', 'deployment/NAME')).action(
    action((kube, args: string[]) => runRestart(kube, args)),
  );
}
