import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveProfile, type SchedulerConfiguration } from './config';

describe('scheduler configuration', () => {
  it('defaults to Kubernetes plugins and weights', () => {
    const p = resolveProfile();
    expect(p.filter).toEqual(['NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'PodTopologySpread', 'InterPodAffinity']);
    expect(Object.fromEntries(p.score.map((s) => [s.name, s.weight]))).toEqual({
      TaintToleration: 3,
      NodeAffinity: 2,
      PodTopologySpread: 2,
      InterPodAffinity: 2,
      NodeResourcesLeastAllocated: 1,
      NodeResourcesBalancedAllocation: 1,
      ImageLocality: 1,
    });
  });

  it('reads a KubeSchedulerConfiguration: weights overridden, plugins disabled, args passed', () => {
    const config = parse(`
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
  - schedulerName: default-scheduler
    plugins:
      filter:
        disabled: [{ name: NodePorts }]
      score:
        disabled: [{ name: ImageLocality }]
        enabled: [{ name: NodeResourcesBalancedAllocation, weight: 5 }]
    pluginConfig:
      - name: NodeResourcesLeastAllocated
        args: { resources: [{ name: cpu, weight: 3 }] }
`) as SchedulerConfiguration;
    const p = resolveProfile(config);
    expect(p.filter).not.toContain('NodePorts');
    expect(p.score.find((s) => s.name === 'NodeResourcesBalancedAllocation')?.weight).toBe(5);
    expect(p.score.map((s) => s.name)).not.toContain('ImageLocality');
    expect(p.args.get('NodeResourcesLeastAllocated')).toEqual({ resources: [{ name: 'cpu', weight: 3 }] });
  });

  it('"*" disables every default, leaving only what is enabled', () => {
    const p = resolveProfile({ profiles: [{ plugins: { score: { disabled: [{ name: '*' }], enabled: [{ name: 'ImageLocality', weight: 7 }] } } }] });
    expect(p.score).toEqual([{ name: 'ImageLocality', weight: 7 }]);
  });
});
