// `keel describe pod`: kubectl's Pod layout — identity and placement, status and IPs, the
// containers (state, probes, environment, mounts), the Conditions table, volumes, QoS class,
// node selectors and tolerations.
import { Quantity, type Container, type Pod } from '@keel/api';
import { LEVEL, annotationLines, controllerOf, labelLines, rfc1123z, selectorText, tolerationLines } from './common';
import { containerLines, volumeLines } from './containers';
import { age } from './duration';

/** The pod's QoS class as the kubelet computes it, for a pod whose status does not say. */
export function qosClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  if (pod.status?.qosClass) return pod.status.qosClass;
  const containers: Container[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const relevant = (list: Record<string, string> | undefined): [string, Quantity][] =>
    Object.entries(list ?? {})
      .filter(([k]) => k === 'cpu' || k === 'memory')
      .map(([k, v]) => [k, Quantity.tryParse(v) ?? Quantity.zero()] as [string, Quantity])
      .filter(([, q]) => !q.isZero());
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const requests = new Map(relevant(c.resources?.requests));
    const limits = new Map(relevant(c.resources?.limits));
    if (requests.size || limits.size) any = true;
    if (limits.size < 2) guaranteed = false;
    // A request left out defaults to its limit.
    for (const [k, r] of requests) if (!limits.get(k)?.equals(r)) guaranteed = false;
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export function describePod(pod: Pod, now: Date): string[] {
  const md = pod.metadata ?? {};
  const spec = pod.spec;
  const status = pod.status ?? {};
  const out = [`Name:\t${md.name ?? ''}`, `Namespace:\t${md.namespace ?? ''}`];
  if (spec?.priority !== undefined) out.push(`Priority:\t${spec.priority}`);
  if (spec?.priorityClassName) out.push(`Priority Class Name:\t${spec.priorityClassName}`);
  if (spec?.runtimeClassName) out.push(`Runtime Class Name:\t${spec.runtimeClassName}`);
  if (spec?.serviceAccountName) out.push(`Service Account:\t${spec.serviceAccountName}`);
  out.push(`Node:\t${spec?.nodeName ? `${spec.nodeName}/${status.hostIP ?? ''}` : '<none>'}`);
  if (status.startTime) out.push(`Start Time:\t${rfc1123z(status.startTime)}`);
  out.push(...labelLines('Labels', md.labels), ...annotationLines('Annotations', md.annotations));
  if (md.deletionTimestamp && status.phase !== 'Failed' && status.phase !== 'Succeeded') {
    out.push(`Status:\tTerminating (lasts ${age(md.deletionTimestamp, now)})`);
    if (md.deletionGracePeriodSeconds !== undefined) out.push(`Termination Grace Period:\t${md.deletionGracePeriodSeconds}s`);
  } else {
    out.push(`Status:\t${status.phase ?? ''}`);
  }
  if (status.reason) out.push(`Reason:\t${status.reason}`);
  if (status.message) out.push(`Message:\t${status.message}`);
  const seccomp = spec?.securityContext?.seccompProfile;
  if (seccomp) {
    out.push(`SeccompProfile:\t${seccomp.type}`);
    if (seccomp.type === 'Localhost') out.push(`LocalhostProfile:\t${seccomp.localhostProfile ?? ''}`);
  }
  out.push(`IP:\t${status.podIP ?? ''}`);
  if (status.podIPs?.length) out.push('IPs:', ...status.podIPs.map((p) => `${LEVEL(1)}IP:\t${p.ip}`));
  else out.push('IPs:\t<none>');
  const controller = controllerOf(md);
  if (controller) out.push(`Controlled By:\t${controller}`);
  if (status.nominatedNodeName) out.push(`NominatedNodeName:\t${status.nominatedNodeName}`);
  if (spec?.initContainers?.length) out.push(...containerLines('Init Containers', spec.initContainers, status.initContainerStatuses ?? [], pod));
  out.push(...containerLines('Containers', spec?.containers, status.containerStatuses ?? [], pod));
  if (spec?.readinessGates?.length) {
    out.push('Readiness Gates:', '  Type\tStatus');
    for (const g of spec.readinessGates) out.push(`${LEVEL(1)}${g.conditionType} \t${status.conditions?.find((c) => c.type === g.conditionType)?.status ?? '<none>'} `);
  }
  if (status.conditions?.length) {
    out.push('Conditions:', '  Type\tStatus', ...status.conditions.map((c) => `${LEVEL(1)}${c.type} \t${c.status} `));
  }
  out.push(...volumeLines(spec?.volumes), `QoS Class:\t${qosClass(pod)}`);
  out.push(...labelLines('Node-Selectors', spec?.nodeSelector), ...tolerationLines('Tolerations', spec?.tolerations));
  const spread = [...(spec?.topologySpreadConstraints ?? [])].sort((a, b) => a.topologyKey.localeCompare(b.topologyKey));
  spread.forEach((t, i) => {
    const sel = t.labelSelector ? ` for selector ${selectorText(t.labelSelector)}` : '';
    out.push(`${i === 0 ? 'Topology Spread Constraints:' : ''}\t${t.topologyKey}:${t.whenUnsatisfiable} when max skew ${t.maxSkew} is exceeded${sel}`);
  });
  return out;
}
