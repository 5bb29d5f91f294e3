import { describe, expect, it } from 'vitest';
import { Status } from '../framework/status';
import { fitErrorMessage, newDiagnosis } from './fit-error';

describe('the FailedScheduling message', () => {
  // Kubernetes sorts the whole "count reason" strings (sort.Strings), so the count leads the order.
  it('counts reasons and sorts them as Kubernetes does', () => {
    const d = newDiagnosis();
    d.nodeStatuses.set('a', Status.unschedulable('Insufficient cpu'));
    d.nodeStatuses.set('b', Status.unschedulable('Insufficient cpu'));
    d.nodeStatuses.set('c', Status.unschedulable('Insufficient cpu'));
    d.nodeStatuses.set('d', Status.unresolvable('node(s) had untolerated taint {key: value}'));
    d.nodeStatuses.set('e', Status.unresolvable('node(s) had untolerated taint {key: value}'));
    expect(fitErrorMessage(5, d)).toBe('0/5 nodes are available: 2 node(s) had untolerated taint {key: value}, 3 Insufficient cpu.');
  });

  it('counts every reason of a node and appends preemption', () => {
    const d = newDiagnosis();
    d.nodeStatuses.set('a', Status.unschedulable('Insufficient cpu', 'Insufficient memory'));
    d.nodeStatuses.set('b', Status.unschedulable('Insufficient memory'));
    d.postFilterMessage = 'preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod';
    expect(fitErrorMessage(2, d)).toBe(
      '0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.',
    );
  });

  it('says so for a cluster with no nodes', () => {
    expect(fitErrorMessage(0, newDiagnosis())).toBe('0/0 nodes are available:');
  });
});
