// Admission that belongs to security, applied as a wrapper around the strategy table so the
// registry code stays as it is:
//  - the ServiceAccount plugin's defaulting: a pod that names no ServiceAccount runs as its
//    namespace's `default` one, so it is never without an identity RBAC can bind (the
//    ServiceAccount controller creates `default`), and its token volume and mounts
//    (serviceaccount-admission.ts; the agent fills the volume through TokenRequest);
//  - RBAC's escalation check on Roles, ClusterRoles and their bindings (escalation.ts), run on
//    the object as it will be stored.
import type { KubeObject, Pod, ServiceAccount } from '@keel/api';
import type { StrategyTable } from '../registry/strategy';
import { guardRbacWrite } from './escalation';
import { mountServiceAccountToken } from './serviceaccount-admission';

export interface SecurityAdmissionDeps {
  /** The ServiceAccount as the watch cache holds it (its automountServiceAccountToken). */
  serviceAccount?: (namespace: string, name: string) => ServiceAccount | undefined;
  /**
   * Whether pods get the token volume: only when this server signs tokens (TokenRequest), else
   * no agent could ever fill it and every pod would wait forever.
   */
  mountTokens?: () => boolean;
  /** Randomness for the token volume's name. */
  random?: () => number;
}

type PodSpec = { serviceAccountName?: string; serviceAccount?: string };

export function withSecurityAdmission(strategies: StrategyTable, deps: SecurityAdmissionDeps = {}): StrategyTable {
  return (info) => {
    const strategy = strategies(info);
    if (info.group === 'rbac.authorization.k8s.io') {
      return {
        ...strategy,
        prepareForCreate(obj, ctx) {
          strategy.prepareForCreate?.(obj, ctx);
          guardRbacWrite(info.resource, obj);
        },
        prepareForUpdate(obj, old, ctx) {
          strategy.prepareForUpdate?.(obj, old, ctx);
          guardRbacWrite(info.resource, obj);
        },
      };
    }
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
        if (deps.mountTokens?.()) mountServiceAccountToken(pod as Pod, deps.serviceAccount?.(pod.metadata.namespace ?? '', name), deps.random ?? Math.random);
      },
    };
  };
}
