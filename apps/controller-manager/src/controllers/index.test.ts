import { describe, expect, it } from 'vitest';
import { selectControllers } from './index';

describe('--controllers', () => {
  it('takes *, names and -names as kube-controller-manager does', () => {
    expect(selectControllers('*')).toHaveLength(10);
    expect(selectControllers('*')).toContain('root-ca-cert-publisher');
    expect(selectControllers('*,-nodelifecycle')).not.toContain('nodelifecycle');
    expect(selectControllers('deployment,replicaset')).toEqual(['deployment', 'replicaset']);
    expect(() => selectControllers('deployment,cronjob')).toThrow(/unknown controller "cronjob"/);
  });
});
