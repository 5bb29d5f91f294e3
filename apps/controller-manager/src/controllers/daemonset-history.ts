// A DaemonSet's rollout history as ControllerRevisions, as Kubernetes keeps it: one revision per
// pod template the DaemonSet has run, named `<ds>-<hash>` and labelled with the
// `controller-revision-hash` its pods carry, holding the template as a strategic merge patch
// (`{spec: {template: {..., $patch: replace}}}`, what `kubectl rollout undo ds` applies). The
// current template's revision has the highest number (a template seen before — a rollback — is
// renumbered rather than copied); old revisions no live pod uses are deleted beyond
// revisionHistoryLimit (default 10), oldest first.
import { deepCopy, deepEqual, newControllerRef, type ControllerRevision, type DaemonSet, type Pod } from '@keel/api';
import type { Client } from '@keel/client';
import { isNotFound } from '../runtime/controller';
import type { Owner } from './pod-control';

/** The label on a DaemonSet's pods and revisions naming the template they come from. */
export const ControllerRevisionHashLabel = 'controller-revision-hash';

/** The patch a revision holds for this template. */
export function revisionData(ds: DaemonSet): unknown {
  return { spec: { template: { ...deepCopy(ds.spec?.template ?? {}), $patch: 'replace' } } };
}

export function revisionFor(ds: DaemonSet & Owner, hash: string, revision: number): ControllerRevision {
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: `${ds.metadata.name}-${hash}`,
      namespace: ds.metadata.namespace,
      labels: { ...(ds.spec?.template?.metadata?.labels ?? {}), [ControllerRevisionHashLabel]: hash },
      // As Kubernetes does, so a change-cause set on the DaemonSet shows in `rollout history`.
      ...(ds.metadata.annotations ? { annotations: { ...ds.metadata.annotations } } : {}),
      ownerReferences: [newControllerRef(ds)],
    },
    data: revisionData(ds),
    revision,
  };
}

export interface HistoryPlan {
  /** The current template's revision as it exists, if it does. */
  current?: ControllerRevision;
  /** Create it (absent), or renumber it (a rollback to a template run before). */
  create?: ControllerRevision;
  renumber?: ControllerRevision;
  /** Old revisions to delete. */
  remove: ControllerRevision[];
}

/** What to write so the history ends with `hash`'s revision and stays within the limit. */
export function planHistory(ds: DaemonSet & Owner, hash: string, revisions: readonly ControllerRevision[], pods: readonly Pod[]): HistoryPlan {
  const mine = revisions.filter((r) => r.metadata.ownerReferences?.some((o) => o.controller && o.uid === ds.metadata.uid));
  const max = mine.reduce((m, r) => Math.max(m, r.revision ?? 0), 0);
  const current = mine.find((r) => r.metadata.labels?.[ControllerRevisionHashLabel] === hash && deepEqual(r.data, revisionData(ds)));
  const plan: HistoryPlan = { remove: [], ...(current ? { current } : {}) };
  if (!current) plan.create = revisionFor(ds, hash, max + 1);
  else if ((current.revision ?? 0) < max) plan.renumber = { ...current, revision: max + 1 };
  const inUse = new Set(pods.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.labels?.[ControllerRevisionHashLabel]));
  const old = mine.filter((r) => r !== current && !inUse.has(r.metadata.labels?.[ControllerRevisionHashLabel])).sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
  const limit = ds.spec?.revisionHistoryLimit ?? 10;
  if (old.length > limit) plan.remove = old.slice(0, old.length - limit);
  return plan;
}

/** Writes the plan; a revision of the same name with other data (a hash collision) is left alone. */
export async function writeHistory(client: Client, namespace: string | undefined, plan: HistoryPlan): Promise<void> {
  const revisions = client.controllerRevisions(namespace);
  if (plan.create) {
    try {
      await revisions.create(plan.create);
    } catch (err) {
      if ((err as { reason?: string }).reason !== 'AlreadyExists') throw err;
    }
  }
  if (plan.renumber) await revisions.update(plan.renumber);
  for (const r of plan.remove) {
    await revisions.delete(r.metadata.name!, { preconditions: { uid: r.metadata.uid! } }).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  }
}
