// `keel describe service` and `namespace`: kubectl's Service layout (type, IP families, one
// Port / TargetPort / NodePort / Endpoints group per port, session affinity) with endpoints
// read from the Service's EndpointSlices; and the Namespace layout (status, conditions).
import type { EndpointSlice, Namespace, Service } from '@keel/api';
import { LEVEL, annotationLines, labelLines, rfc1123z } from './common';

const MAX_ENDPOINTS = 3;

/** `10.0.0.5:8080,10.0.0.6:8080 + 2 more...`: the ready endpoints of one service port. */
export function endpointsText(slices: EndpointSlice[], portName: string): string {
  if (!slices.length) return '<none>';
  const list: string[] = [];
  let more = false;
  let count = 0;
  const add = (text: string): void => {
    if (list.length === MAX_ENDPOINTS) more = true;
    if (!more) list.push(text);
    count++;
  };
  for (const s of slices) {
    // An endpoint whose readiness is unknown counts as ready, as kubectl counts it.
    const ready = (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false && e.addresses?.length);
    if (!s.ports?.length) {
      for (const e of ready) add(e.addresses[0]!);
      continue;
    }
    for (const p of s.ports) {
      if ((p.name ?? '') !== portName) continue;
      for (const e of ready) add(e.addresses[0]!.includes(':') ? `[${e.addresses[0]}]:${p.port}` : `${e.addresses[0]}:${p.port}`);
    }
  }
  return more ? `${list.join(',')} + ${count - MAX_ENDPOINTS} more...` : list.join(',');
}

export function describeService(svc: Service, slices: EndpointSlice[]): string[] {
  const md = svc.metadata ?? {};
  const spec = svc.spec ?? {};
  const selector = Object.entries(spec.selector ?? {}).map(([k, v]) => `${k}=${v}`).sort().join(',');
  const out = [`Name:\t${md.name ?? ''}`, `Namespace:\t${md.namespace ?? ''}`, ...labelLines('Labels', md.labels), ...annotationLines('Annotations', md.annotations)];
  out.push(`Selector:\t${selector || '<none>'}`, `Type:\t${spec.type ?? ''}`);
  if (spec.ipFamilyPolicy) out.push(`IP Family Policy:\t${spec.ipFamilyPolicy}`);
  out.push(`IP Families:\t${spec.ipFamilies?.length ? spec.ipFamilies.join(',') : '<none>'}`);
  out.push(`IP:\t${spec.clusterIP ?? ''}`, `IPs:\t${spec.clusterIPs?.length ? spec.clusterIPs.join(',') : '<none>'}`);
  if (spec.externalIPs?.length) out.push(`External IPs:\t${spec.externalIPs.join(',')}`);
  if (spec.loadBalancerIP) out.push(`Desired LoadBalancer IP:\t${spec.loadBalancerIP}`);
  if (spec.externalName) out.push(`External Name:\t${spec.externalName}`);
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  if (ingress.length) out.push(`LoadBalancer Ingress:\t${ingress.map((i) => i.ip || i.hostname || '').join(', ')}`);
  for (const p of spec.ports ?? []) {
    const name = p.name || '<unset>';
    const proto = p.protocol ?? 'TCP';
    out.push(`Port:\t${name}\t${p.port}/${proto}`, `TargetPort:\t${String(p.targetPort ?? p.port)}/${proto}`);
    if (p.nodePort) out.push(`NodePort:\t${name}\t${p.nodePort}/${proto}`);
    out.push(`Endpoints:\t${endpointsText(slices, p.name ?? '')}`);
  }
  out.push(`Session Affinity:\t${spec.sessionAffinity ?? ''}`);
  if (spec.externalTrafficPolicy) out.push(`External Traffic Policy:\t${spec.externalTrafficPolicy}`);
  if (spec.internalTrafficPolicy) out.push(`Internal Traffic Policy:\t${spec.internalTrafficPolicy}`);
  return out;
}

export function describeNamespace(ns: Namespace): string[] {
  const md = ns.metadata ?? {};
  const out = [`Name:\t${md.name ?? ''}`, ...labelLines('Labels', md.labels), ...annotationLines('Annotations', md.annotations), `Status:\t${ns.status?.phase ?? ''}`];
  const conditions = ns.status?.conditions ?? [];
  if (conditions.length) {
    out.push('Conditions:', `${LEVEL(1)}Type\tStatus\tLastTransitionTime\tReason\tMessage`, `${LEVEL(1)}----\t------\t------------------\t------\t-------`);
    for (const c of conditions) out.push(`${LEVEL(1)}${c.type}\t${c.status}\t${rfc1123z(c.lastTransitionTime)}\t${c.reason ?? ''}\t${c.message ?? ''}`);
  }
  return out;
}
