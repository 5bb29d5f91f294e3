// Admission that belongs to security: the ServiceAccount plugin's defaulting. A pod that names
// no ServiceAccount runs as its namespace's `default` one, so it is never without an identity
// that RBAC can bind. (The ServiceAccount controller creates `default` in each namespace; token
// volume projection is the agent's part, not done here.) Applied as a wrapper around the
// strategy table, so the registry code stays as it is.
import type { KubeObject } from '@keel/api';
import type { StrategyTable } from '../registry/strategy';

type PodSpec = { serviceAccountName?: string; serviceAccount?: string };

export function withServiceAccountAdmission(strategies: StrategyTable): StrategyTable {
  return (info) => {
    const strategy = strategies(info);
    if (info.group !== '' || info.resource !== 'pods') return strategy;
    return {
      ...strategy,
      prepareForCreate(obj: KubeObject, ctx) {
        strategy.prepareForCreate?.(obj, ctx);
        const pod = obj as KubeObject & { spec?: PodSpec };
        if (!pod.spec) return;
        // The deprecated serviceAccount field is honoured as Kubernetes does, then both agree.
        const name = pod.spec.serviceAccountName || pod.spec.serviceAccount || 'default';
        pod.spec.serviceAccountName = name;
        pod.spec.serviceAccount = name;
      },
    };
  };
}
