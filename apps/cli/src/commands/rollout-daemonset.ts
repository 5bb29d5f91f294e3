// The pure half of `keel rollout` for DaemonSets: kubectl's status line from the DaemonSet's
// status counts, and its history read from the ControllerRevisions the DaemonSet controller
// writes (apps/controller-manager daemonset-history.ts): one per pod template, numbered by
// `revision`, holding `{spec: {template: {..., $patch: replace}}}`. Undo puts a revision's
// template back; the controller then renumbers that revision as the newest.
import type { KubeObj } from '../print/objects';
import { UsageError } from './context';

export interface DaemonSetObj extends KubeObj {
  spec?: { selector?: { matchLabels?: Record<string, string> }; updateStrategy?: { type?: string }; template?: unknown };
  status?: { observedGeneration?: number; desiredNumberScheduled?: number; updatedNumberScheduled?: number; numberAvailable?: number };
}

export interface ControllerRevisionObj extends KubeObj {
  data?: { spec?: { template?: Record<string, unknown> } };
  revision?: number;
}

/** kubectl's rollout status line for a DaemonSet (DaemonSetStatusViewer), and whether it is done. */
export function daemonSetStatus(ds: DaemonSetObj): { done: boolean; message: string; failed?: boolean } {
  const name = ds.metadata?.name;
  const strategy = ds.spec?.updateStrategy?.type ?? 'RollingUpdate';
  if (strategy !== 'RollingUpdate') return { done: true, failed: true, message: `rollout status is only available for RollingUpdate strategy type (daemon set "${name}" uses ${strategy})` };
  const st = ds.status ?? {};
  if ((ds.metadata?.generation ?? 0) > (st.observedGeneration ?? 0)) return { done: false, message: 'Waiting for daemon set spec update to be observed...' };
  const desired = st.desiredNumberScheduled ?? 0;
  const updated = st.updatedNumberScheduled ?? 0;
  const available = st.numberAvailable ?? 0;
  if (updated < desired) return { done: false, message: `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...` };
  if (available < desired) return { done: false, message: `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...` };
  return { done: true, message: `daemon set "${name}" successfully rolled out` };
}

/** The revisions `ds` controls, oldest first. */
export function ownedRevisions(ds: DaemonSetObj, revisions: readonly ControllerRevisionObj[]): ControllerRevisionObj[] {
  return revisions.filter((r) => r.metadata?.ownerReferences?.some((o) => o.uid === ds.metadata?.uid)).sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
}

/** The pod template a revision holds, without the `$patch: replace` directive. */
export function revisionTemplate(r: ControllerRevisionObj): Record<string, unknown> {
  const template = { ...(r.data?.spec?.template ?? {}) };
  delete template['$patch'];
  return template;
}

/**
 * The revision `rollout undo` goes back to (kubectl's findHistory): `toRevision` when given
 * (and not 0), else the one before the newest.
 */
export function undoRevision<T extends { revision?: number }>(history: readonly T[], toRevision: string | undefined): T {
  if (toRevision !== undefined && toRevision !== '0') {
    const found = history.find((r) => String(r.revision) === toRevision);
    if (!found) throw new UsageError(`unable to find specified revision ${toRevision} in history`);
    return found;
  }
  if (history.length <= 1) throw new UsageError('no last revision to roll back to');
  return history[history.length - 2]!;
}
