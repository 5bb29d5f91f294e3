import { describe, expect, it } from 'vitest';
import { daemonSetStatus, ownedRevisions, revisionTemplate, undoRevision, type ControllerRevisionObj } from './rollout-daemonset';

describe('daemon set rollout status', () => {
  const ds = (status: Record<string, number>, generation = 1, strategy?: string) => ({
    metadata: { name: 'agent', generation },
    spec: strategy ? { updateStrategy: { type: strategy } } : {},
    status: { observedGeneration: 1, ...status },
  });

  it("says what it waits for, in kubectl's words", () => {
    expect(daemonSetStatus(ds({ desiredNumberScheduled: 2 }, 2))).toEqual({ done: false, message: 'Waiting for daemon set spec update to be observed...' });
    expect(daemonSetStatus(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 1 })).message).toBe('Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been updated...');
    expect(daemonSetStatus(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 })).message).toBe(
      'Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available...',
    );
    expect(daemonSetStatus(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 }))).toEqual({ done: true, message: 'daemon set "agent" successfully rolled out' });
  });

  it('is done at once when no node should run the daemon, and refuses OnDelete', () => {
    expect(daemonSetStatus(ds({ desiredNumberScheduled: 0 })).done).toBe(true);
    expect(daemonSetStatus(ds({}, 1, 'OnDelete'))).toMatchObject({ done: true, failed: true, message: expect.stringMatching(/only available for RollingUpdate/) });
  });
});

describe('daemon set rollout history', () => {
  const rev = (n: number, uid: string, template: Record<string, unknown> = { metadata: { labels: { app: 'a' } } }): ControllerRevisionObj => ({
    metadata: { name: `agent-${n}`, ownerReferences: [{ kind: 'DaemonSet', name: 'agent', uid, controller: true }] },
    data: { spec: { template: { ...template, $patch: 'replace' } } },
    revision: n,
  });

  it('keeps the revisions the daemon set owns, oldest first', () => {
    const owned = ownedRevisions({ metadata: { uid: 'u1' } }, [rev(3, 'u1'), rev(1, 'u2'), rev(2, 'u1')]);
    expect(owned.map((r) => r.revision)).toEqual([2, 3]);
  });

  it("reads a revision's template without the $patch directive", () => {
    expect(revisionTemplate(rev(1, 'u', { metadata: { labels: { app: 'a' } }, spec: { containers: [] } }))).toEqual({ metadata: { labels: { app: 'a' } }, spec: { containers: [] } });
    expect(revisionTemplate({ revision: 1 })).toEqual({});
  });

  it('undoes to the revision before the newest, or the one asked for', () => {
    const history = [rev(1, 'u'), rev(2, 'u'), rev(4, 'u')];
    expect(undoRevision(history, undefined).revision).toBe(2);
    expect(undoRevision(history, '0').revision).toBe(2);
    expect(undoRevision(history, '1').revision).toBe(1);
    expect(() => undoRevision(history, '3')).toThrow('unable to find specified revision 3 in history');
    expect(() => undoRevision([rev(1, 'u')], undefined)).toThrow('no last revision to roll back to');
  });
});
