// The strategies of the resources Keel serves: what each resets on create, how deletion
// goes (pods gracefully once on a node, namespaces through their spec.finalizers), and
// validation — object metadata and each kind's own rules, from @keel/api — and the pod
// admission that is not about security (DefaultTolerationSeconds).
import {
  addDefaultTolerations,
  DEFAULT_TOLERATION_SECONDS,
  validateCreate,
  validateUpdate,
  type DefaultTolerationSeconds,
  type DeleteOptions,
  type KubeObject,
  type Pod as ApiPod,
  type ResourceInfo,
  type StatusCause,
} from '@keel/api';
import type { ServiceAllocator, Service } from '../allocators/services';
import type { Strategy } from './strategy';

function baseStrategy(_info: ResourceInfo): Strategy {
  return {
    // Metadata and the kind's own rules, with Kubernetes' field paths and messages.
    validate: (obj): StatusCause[] => validateCreate(obj),
    validateUpdate: (obj, old): StatusCause[] => validateUpdate(obj, old),
  };
}

type Pod = KubeObject & { spec?: { nodeName?: string; terminationGracePeriodSeconds?: number }; status?: Record<string, unknown> };
type Namespace = KubeObject & { spec?: { finalizers?: string[] }; status?: { phase?: string } };

function podStrategy(info: ResourceInfo, tolerationSeconds: DefaultTolerationSeconds | false): Strategy {
  const base = baseStrategy(info);
  return {
    ...base,
    prepareForCreate(obj: KubeObject) {
      // Bounded tolerations of the node lifecycle's NoExecute taints, so a node that misses a
      // few heartbeats does not lose its pods at once (kube-apiserver's DefaultTolerationSeconds).
      if (tolerationSeconds) addDefaultTolerations(obj as ApiPod, tolerationSeconds);
    },
    gracePeriod(obj: KubeObject, options: DeleteOptions) {
      const pod = obj as Pod;
      // A pod no node has started can go at once; one on a node is stopped by its agent first.
      if (!pod.spec?.nodeName) return 0;
      return options.gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    },
  };
}

function namespaceStrategy(info: ResourceInfo): Strategy {
  const base = baseStrategy(info);
  return {
    ...base,
    blocksRemoval(obj) {
      return ((obj as Namespace).spec?.finalizers ?? []).length > 0;
    },
    prepareForDelete(obj) {
      (obj as Namespace).status = { ...(obj as Namespace).status, phase: 'Terminating' };
    },
  };
}

function serviceStrategy(info: ResourceInfo, allocator: ServiceAllocator | undefined): Strategy {
  const base = baseStrategy(info);
  if (!allocator) return base;
  return {
    ...base,
    beforeCreate: (obj) => allocator.allocate(obj as Service),
    createFailed: (obj) => allocator.release(obj as Service),
    afterDelete: (obj) => allocator.release(obj as Service),
  };
}

export interface StrategyDeps {
  /** Hands out ClusterIPs and NodePorts; without it Services keep what they were given. */
  services?: ServiceAllocator;
  /**
   * DefaultTolerationSeconds admission: the seconds new pods tolerate an unreachable or
   * not-ready node; on by default with 300 s each, as in Kubernetes; false turns it off.
   */
  defaultTolerationSeconds?: DefaultTolerationSeconds | false;
}

/** The strategy of each resource; resources without special rules get the base one. */
export function defaultStrategies(deps: StrategyDeps = {}): (info: ResourceInfo) => Strategy {
  const cache = new Map<string, Strategy>();
  const make = (info: ResourceInfo): Strategy => {
    switch (info.resource) {
      case 'pods':
        return podStrategy(info, deps.defaultTolerationSeconds ?? { notReadySeconds: DEFAULT_TOLERATION_SECONDS, unreachableSeconds: DEFAULT_TOLERATION_SECONDS });
      case 'namespaces':
        return namespaceStrategy(info);
      case 'services':
        return serviceStrategy(info, deps.services);
      default:
        return baseStrategy(info);
    }
  };
  return (info) => {
    let s = cache.get(info.resource);
    if (!s) {
      s = make(info);
      cache.set(info.resource, s);
    }
    return s;
  };
}
