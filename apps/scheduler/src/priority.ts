// PriorityClass resolution. Kubernetes' Priority admission plugin fills pod.spec.priority
// from priorityClassName (or the globalDefault class) at creation; Keel's apiserver does not
// yet, so the scheduler resolves it from the PriorityClass objects it watches. A priority
// already on the pod wins.

import type { Pod, PriorityClass } from '@keel/api';

/** Kubernetes' built-in classes, which exist without objects. */
const builtIn: Record<string, number> = {
  'system-cluster-critical': 2_000_000_000,
  'system-node-critical': 2_000_001_000,
};

export class PriorityResolver {
  private readonly classes = new Map<string, PriorityClass>();

  set(pc: PriorityClass): void {
    this.classes.set(pc.metadata.name ?? '', pc);
  }

  delete(name: string): void {
    this.classes.delete(name);
  }

  private globalDefault(): PriorityClass | undefined {
    let best: PriorityClass | undefined;
    for (const pc of this.classes.values()) if (pc.globalDefault && (!best || pc.value > best.value)) best = pc;
    return best;
  }

  /** The pod with spec.priority (and preemptionPolicy) filled in; the same object if already set. */
  resolve(pod: Pod): Pod {
    if (pod.spec?.priority !== undefined || !pod.spec) return pod;
    const name = pod.spec.priorityClassName;
    const pc = name ? this.classes.get(name) : this.globalDefault();
    const value = pc?.value ?? (name ? builtIn[name] : undefined) ?? 0;
    const policy = pod.spec.preemptionPolicy ?? pc?.preemptionPolicy;
    return { ...pod, spec: { ...pod.spec, priority: value, ...(policy ? { preemptionPolicy: policy } : {}) } };
  }
}
