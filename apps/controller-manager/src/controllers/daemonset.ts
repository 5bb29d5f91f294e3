// The DaemonSet controller: one pod per node that the template's nodeSelector and required
// node affinity accept and whose NoSchedule/NoExecute taints the template tolerates (with
// the tolerations Kubernetes adds to every daemon pod: not-ready, unreachable, the pressure
// taints and unschedulable). Pods are placed the modern way: each gets a required node
// affinity term `metadata.name In [<node>]` and the scheduler binds it; the controller never
// sets spec.nodeName. Extra or misplaced pods are deleted, failed ones replaced. Updates:
// RollingUpdate replaces pods of an old template (by the `controller-revision-hash` label)
// at most maxUnavailable at a time; OnDelete waits for the user. Status counts as
// `kubectl rollout status ds` reads them. The history of templates is kept as
// ControllerRevisions (daemonset-history.ts) for `kubectl rollout history/undo ds`.
import {
  deepCopy,
  deepEqual,
  findUntoleratedTaint,
  isPodActive,
  isPodReady,
  labelSelectorAsQuery,
  objectKey,
  podMatchesNode,
  scaledValueFromIntOrPercent,
  type DaemonSet,
  type ControllerRevision,
  type DaemonSetStatus,
  type Node,
  type NodeSelectorTerm,
  type Pod,
  type Toleration,
} from '@keel/api';
import { Resources } from '@keel/client';
import { Controller, isNotFound, type ControllerContext } from '../runtime/controller';
import { Expectations } from '../runtime/expectations';
import type { Informer } from '../runtime/informer';
import { ControllerRevisionHashLabel, planHistory, writeHistory } from './daemonset-history';
import { computeHash } from './deployment-util';
import { asOwner, claimPods, ownerKey, podFromTemplate } from './pod-control';
import { podAvailable } from './replicaset';

export { ControllerRevisionHashLabel };

/** The tolerations every daemon pod gets (AddOrUpdateDaemonPodTolerations). */
export const daemonTolerations: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

/** The node a daemon pod is for: its nodeName, or the name in its node affinity term. */
export function daemonPodNode(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    const field = term.matchFields?.find((f) => f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1);
    if (field) return field.values![0];
  }
  return undefined;
}

/** The template pod for `node`, with its placement and the daemon tolerations. */
export function daemonPodFor(ds: DaemonSet & { apiVersion: string; kind: string }, node: string, hash: string): Pod {
  const pod = podFromTemplate(ds.spec?.template, ds, `${ds.metadata.name}-`);
  pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [ControllerRevisionHashLabel]: hash };
  const spec = pod.spec!;
  const tolerations = [...(spec.tolerations ?? [])];
  for (const t of daemonTolerations) if (!tolerations.some((x) => x.key === t.key && x.effect === t.effect)) tolerations.push(t);
  spec.tolerations = tolerations;
  const nameTerm: NodeSelectorTerm = { matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] };
  const affinity = (spec.affinity ??= {});
  const nodeAffinity = (affinity.nodeAffinity ??= {});
  // ReplaceDaemonSetPodNodeNameNodeAffinity: the terms become exactly the node's name.
  nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = { nodeSelectorTerms: [nameTerm] };
  return pod;
}

/** Whether the daemon should run on `node` (nodeShouldRunDaemonPod). */
export function shouldRun(ds: DaemonSet, node: Node): boolean {
  const template: Pod = { metadata: {}, spec: deepCopy(ds.spec?.template?.spec ?? { containers: [] }) };
  if (!podMatchesNode(template, node)) return false;
  const tolerations = [...(template.spec?.tolerations ?? []), ...daemonTolerations];
  return findUntoleratedTaint(node.spec?.taints, tolerations, ['NoSchedule', 'NoExecute']) === undefined;
}

export class DaemonSetController extends Controller {
  readonly name = 'daemonset';
  readonly expectations: Expectations;
  private readonly daemonSets: Informer<DaemonSet>;
  private readonly nodes: Informer<Node>;
  private readonly pods: Informer<Pod>;
  private readonly revisions: Informer<ControllerRevision>;

  constructor(private readonly ctx: ControllerContext) {
    super();
    this.expectations = new Expectations(ctx.now);
    this.daemonSets = ctx.informers.for<DaemonSet>(Resources.daemonSets);
    this.revisions = ctx.informers.for<ControllerRevision>(Resources.controllerRevisions);
    const revisionOwner = (r: ControllerRevision) => {
      const owner = ownerKey(r, 'DaemonSet');
      if (owner) this.enqueue(owner);
    };
    this.revisions.addHandler({ add: revisionOwner, update: (_, r) => revisionOwner(r), delete: revisionOwner });
    this.nodes = ctx.informers.for<Node>(Resources.nodes);
    this.pods = ctx.informers.for<Pod>(Resources.pods);
    this.daemonSets.addHandler({
      add: (ds) => this.enqueue(objectKey(ds)),
      update: (_, ds) => this.enqueue(objectKey(ds)),
      delete: (ds) => this.expectations.forget(objectKey(ds)),
    });
    const all = () => this.daemonSets.list().forEach((ds) => this.enqueue(objectKey(ds)));
    this.nodes.addHandler({
      add: all,
      update: (old, n) => {
        if (!deepEqual(old.metadata.labels, n.metadata.labels) || !deepEqual(old.spec?.taints, n.spec?.taints)) all();
      },
      delete: all,
    });
    this.pods.addHandler({
      add: (pod) => {
        const owner = ownerKey(pod, 'DaemonSet');
        if (owner) {
          this.expectations.creationObserved(owner);
          this.enqueue(owner);
        }
      },
      update: (old, pod) => {
        const owner = ownerKey(pod, 'DaemonSet');
        if (owner && pod.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) this.expectations.deletionObserved(owner, objectKey(pod));
        if (owner) this.enqueue(owner);
      },
      delete: (pod) => {
        const owner = ownerKey(pod, 'DaemonSet');
        if (owner) {
          this.expectations.deletionObserved(owner, objectKey(pod));
          this.enqueue(owner);
        }
      },
    });
  }

  async reconcile(key: string): Promise<void> {
    const cached = this.daemonSets.get(key);
    if (!cached) {
      this.expectations.forget(key);
      return;
    }
    const ds = asOwner(deepCopy(cached), 'apps/v1', 'DaemonSet');
    const pods = await claimPods(this.ctx.client, ds, labelSelectorAsQuery(ds.spec?.selector), this.pods.list(ds.metadata.namespace));
    const hash = computeHash(ds.spec?.template);
    // The history first: the current template's revision exists before pods carry its hash.
    if (!ds.metadata.deletionTimestamp) await writeHistory(this.ctx.client, ds.metadata.namespace, planHistory(ds, hash, this.revisions.list(ds.metadata.namespace), pods));
    const nodes = this.nodes.list();
    const byNode = new Map<string, Pod[]>();
    for (const pod of pods.filter((p) => !p.metadata.deletionTimestamp)) {
      const node = daemonPodNode(pod);
      if (node) byNode.set(node, [...(byNode.get(node) ?? []), pod]);
    }
    const create: string[] = [];
    const remove: Pod[] = [];
    const now = this.ctx.now();
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let available = 0;
    let updated = 0;
    const oldPods: Pod[] = [];
    const nodeNames = new Set(nodes.map((n) => n.metadata.name!));
    for (const node of nodes) {
      const name = node.metadata.name!;
      const onNode = byNode.get(name) ?? [];
      const run = shouldRun(ds, node);
      if (run) desired++;
      // Failed daemon pods are replaced; the failed one goes first.
      const failed = onNode.filter((p) => p.status?.phase === 'Failed');
      remove.push(...failed);
      const live = onNode.filter(isPodActive);
      if (!run) {
        if (live.length > 0) misscheduled++;
        remove.push(...live);
        continue;
      }
      if (live.length === 0) {
        create.push(name);
        continue;
      }
      current++;
      // One daemon per node: keep the oldest.
      const sorted = [...live].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
      remove.push(...sorted.slice(1));
      const pod = sorted[0]!;
      if (isPodReady(pod)) ready++;
      if (podAvailable(pod, ds.spec?.minReadySeconds ?? 0, now)) available++;
      if (pod.metadata.labels?.[ControllerRevisionHashLabel] === hash) updated++;
      else oldPods.push(pod);
    }
    // Pods for nodes that no longer exist.
    for (const [node, list] of byNode) if (!nodeNames.has(node)) remove.push(...list);
    // RollingUpdate: replace old pods, unavailable ones first, within maxUnavailable.
    if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && oldPods.length > 0) {
      const maxUnavailable = scaledValueFromIntOrPercent(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, desired, true) || 1;
      const unavailable = desired - available;
      const budget = Math.max(0, maxUnavailable - unavailable);
      const order = [...oldPods].sort((a, b) => Number(podAvailable(a, 0, now)) - Number(podAvailable(b, 0, now)));
      const unavailableOld = order.filter((p) => !podAvailable(p, ds.spec?.minReadySeconds ?? 0, now));
      remove.push(...unavailableOld, ...order.filter((p) => !unavailableOld.includes(p)).slice(0, budget));
    }
    let error: unknown;
    if (this.expectations.satisfied(key) && !ds.metadata.deletionTimestamp) {
      this.expectations.expect(key, create.length, remove.map(objectKey));
      const client = this.ctx.client.pods(ds.metadata.namespace);
      const results = await Promise.allSettled([
        ...create.map(async (node) => {
          try {
            const created = await client.create(daemonPodFor(ds, node, hash));
            this.ctx.recorder.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
          } catch (err) {
            this.expectations.creationFailed(key);
            throw err;
          }
        }),
        ...[...new Set(remove)].map(async (pod) => {
          try {
            await client.delete(pod.metadata.name!, { preconditions: { uid: pod.metadata.uid! } });
            this.ctx.recorder.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
          } catch (err) {
            this.expectations.deletionObserved(key, objectKey(pod));
            if (!isNotFound(err)) throw err;
          }
        }),
      ]);
      error = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined)?.reason;
    }
    const status: DaemonSetStatus = {
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      desiredNumberScheduled: desired,
      numberReady: ready,
      observedGeneration: ds.metadata.generation ?? 0,
      updatedNumberScheduled: updated,
      numberAvailable: available,
      numberUnavailable: Math.max(0, desired - available),
    };
    if (ds.status?.collisionCount !== undefined) status.collisionCount = ds.status.collisionCount;
    if (!deepEqual(status, ds.status)) {
      await this.ctx.client.daemonSets(ds.metadata.namespace).updateStatus({ ...ds, status }).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
    if (error) throw error;
  }
}
