// The container and volume sections kubectl prints for a pod and for a pod template:
// per container its ID, image, ports, command, state, resources, probes in kubectl's
// one-line form, environment and mounts; then each volume with its source type.
import { Quantity, type Container, type ContainerState, type ContainerStatus, type Pod, type PodTemplateSpec, type Probe, type Volume } from '@keel/api';
import { LEVEL, labelLines, annotationLines, rfc1123z, tolerationLines } from './common';

const L1 = LEVEL(1);
const L2 = LEVEL(2);
const L3 = LEVEL(3);

/** kubectl's probe line: `http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3`. */
export function probeText(p: Probe): string {
  const attrs = `delay=${p.initialDelaySeconds ?? 0}s timeout=${p.timeoutSeconds ?? 0}s period=${p.periodSeconds ?? 0}s #success=${p.successThreshold ?? 0} #failure=${p.failureThreshold ?? 0}`;
  if (p.exec) return `exec [${(p.exec.command ?? []).join(' ')}] ${attrs}`;
  if (p.httpGet) {
    const g = p.httpGet;
    const host = g.host ?? '';
    const port = String(g.port ?? '');
    const hostPort = port ? `${host.includes(':') ? `[${host}]` : host}:${port}` : host;
    const scheme = (g.scheme ?? '').toLowerCase();
    return `http-get ${scheme ? `${scheme}:` : ''}//${hostPort}${g.path ?? ''} ${attrs}`;
  }
  if (p.tcpSocket) return `tcp-socket ${p.tcpSocket.host ?? ''}:${String(p.tcpSocket.port)} ${attrs}`;
  if (p.grpc) return `grpc <pod>:${p.grpc.port} ${p.grpc.service ?? ''} ${attrs}`;
  return `unknown ${attrs}`;
}

/** A downward-API field of the pod, for `Environment:` lines (`metadata.name`, `status.podIP`, ...). */
function podField(pod: Pod, path: string): string {
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (m) return (m[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations)?.[m[2]!] ?? '';
  const value: Record<string, string | undefined> = {
    'metadata.name': pod.metadata?.name,
    'metadata.namespace': pod.metadata?.namespace,
    'metadata.uid': pod.metadata?.uid,
    'spec.nodeName': pod.spec?.nodeName,
    'spec.serviceAccountName': pod.spec?.serviceAccountName,
    'status.hostIP': pod.status?.hostIP,
    'status.podIP': pod.status?.podIP,
    'status.podIPs': pod.status?.podIPs?.map((p) => p.ip).join(','),
    'status.hostIPs': pod.status?.hostIPs?.map((p) => p.ip).join(','),
  };
  return value[path] ?? '';
}

/** A container's own resource for a resourceFieldRef (`limits.cpu` in whole cores, rounded up). */
function resourceField(c: Container, resource: string, divisor: string | undefined): string {
  const [kind, name] = resource.split('.', 2) as [string, string];
  const text = (kind === 'limits' ? c.resources?.limits : c.resources?.requests)?.[name ?? ''];
  const q = text === undefined ? undefined : Quantity.tryParse(text);
  const d = Quantity.tryParse(divisor ?? '1') ?? Quantity.fromValue(1);
  if (!q || d.isZero()) return '0';
  return String(Math.ceil(Number(q.nanos) / Number(d.nanos)));
}

function stateLines(title: string, state: ContainerState | undefined): string[] {
  if (state?.running) return [`${L2}${title}:\tRunning`, `${L3}Started:\t${rfc1123z(state.running.startedAt)}`];
  if (state?.terminated) {
    const t = state.terminated;
    const out = [`${L2}${title}:\tTerminated`];
    if (t.reason) out.push(`${L3}Reason:\t${t.reason}`);
    if (t.message) out.push(`${L3}Message:\t${t.message}`);
    out.push(`${L3}Exit Code:\t${t.exitCode}`);
    if (t.signal) out.push(`${L3}Signal:\t${t.signal}`);
    out.push(`${L3}Started:\t${rfc1123z(t.startedAt)}`, `${L3}Finished:\t${rfc1123z(t.finishedAt)}`);
    return out;
  }
  const out = [`${L2}${title}:\tWaiting`];
  if (state?.waiting?.reason) out.push(`${L3}Reason:\t${state.waiting.reason}`);
  return out;
}

function resourceLines(title: string, list: Record<string, string> | undefined, level: number): string[] {
  const names = Object.keys(list ?? {}).sort();
  if (!names.length) return [];
  return [`${LEVEL(level)}${title}:`, ...names.map((n) => `${LEVEL(level + 1)}${n}:\t${list![n]}`)];
}

function envLines(c: Container, pod: Pod | undefined): string[] {
  const out: string[] = [];
  if (c.envFrom?.length) {
    out.push(`${L2}Environment Variables from:`);
    for (const e of c.envFrom) {
      const [from, ref] = e.configMapRef ? ['ConfigMap', e.configMapRef] : e.secretRef ? ['Secret', e.secretRef] : ['', undefined];
      out.push(`${L3}${ref?.name ?? ''}\t${from}${e.prefix ? ` with prefix '${e.prefix}'` : ''}\tOptional: ${ref?.optional === true}`);
    }
  }
  out.push(c.env?.length ? `${L2}Environment:` : `${L2}Environment:\t<none>`);
  for (const e of c.env ?? []) {
    const f = e.valueFrom;
    if (!f) {
      (e.value ?? '').split('\n').forEach((s, i) => out.push(i === 0 ? `${L3}${e.name}:\t${s}` : `${L3}\t${s}`));
    } else if (f.fieldRef) {
      out.push(`${L3}${e.name}:\t${pod ? podField(pod, f.fieldRef.fieldPath) : ''} (${f.fieldRef.apiVersion ?? 'v1'}:${f.fieldRef.fieldPath})`);
    } else if (f.resourceFieldRef) {
      const r = f.resourceFieldRef.resource;
      let v = resourceField(c, r, f.resourceFieldRef.divisor);
      if (v === '0' && (r === 'limits.cpu' || r === 'limits.memory')) v = 'node allocatable';
      out.push(`${L3}${e.name}:\t${v} (${r})`);
    } else if (f.secretKeyRef) {
      out.push(`${L3}${e.name}:\t<set to the key '${f.secretKeyRef.key}' in secret '${f.secretKeyRef.name ?? ''}'>\tOptional: ${f.secretKeyRef.optional === true}`);
    } else if (f.configMapKeyRef) {
      out.push(`${L3}${e.name}:\t<set to the key '${f.configMapKeyRef.key}' of config map '${f.configMapKeyRef.name ?? ''}'>\tOptional: ${f.configMapKeyRef.optional === true}`);
    }
  }
  return out;
}

function mountLines(c: Container): string[] {
  const mounts = [...(c.volumeMounts ?? [])].sort((a, b) => a.mountPath.localeCompare(b.mountPath));
  if (!mounts.length) return [`${L2}Mounts:\t<none>`];
  return [
    `${L2}Mounts:`,
    ...mounts.map((m) => `${L3}${m.mountPath} from ${m.name} (${[m.readOnly ? 'ro' : 'rw', ...(m.subPath ? [`path=${JSON.stringify(m.subPath)}`] : [])].join(',')})`),
  ];
}

/**
 * `Containers:` (or `Init Containers:`) and each container; `statuses` are the pod's (absent
 * for a template), `space` indents a template's section as kubectl does.
 */
export function containerLines(label: string, containers: Container[] | undefined, statuses: ContainerStatus[] | undefined, pod: Pod | undefined, space = ''): string[] {
  const list = containers ?? [];
  const out = [`${space}${label}:${list.length ? '' : ' <none>'}`];
  const byName = new Map((statuses ?? []).map((s) => [s.name, s]));
  for (const c of list) {
    const status = statuses ? byName.get(c.name) : undefined;
    out.push(`${L1}${space ? ' ' : ''}${c.name}:`);
    if (status) out.push(`${L2}Container ID:\t${status.containerID ?? ''}`);
    out.push(`${L2}Image:\t${c.image ?? ''}`);
    if (status) out.push(`${L2}Image ID:\t${status.imageID ?? ''}`);
    const ports = (c.ports ?? []).map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}`);
    const hostPorts = (c.ports ?? []).map((p) => `${p.hostPort ?? 0}/${p.protocol ?? 'TCP'}`);
    out.push(ports.length > 1 ? `${L2}Ports:\t${ports.join(', ')}` : `${L2}Port:\t${ports[0] ?? '<none>'}`);
    out.push(hostPorts.length > 1 ? `${L2}Host Ports:\t${hostPorts.join(', ')}` : `${L2}Host Port:\t${hostPorts[0] ?? '<none>'}`);
    if (c.command?.length) out.push(`${L2}Command:`, ...c.command.flatMap((s) => s.split('\n')).map((s) => `${L3}${s}`));
    if (c.args?.length) out.push(`${L2}Args:`, ...c.args.flatMap((s) => s.split('\n')).map((s) => `${L3}${s}`));
    if (status) {
      out.push(...stateLines('State', status.state));
      if (status.lastState?.terminated) out.push(...stateLines('Last State', status.lastState));
      out.push(`${L2}Ready:\t${status.ready ? 'True' : 'False'}`, `${L2}Restart Count:\t${status.restartCount ?? 0}`);
    }
    out.push(...resourceLines('Limits', c.resources?.limits, 2), ...resourceLines('Requests', c.resources?.requests, 2));
    if (c.livenessProbe) out.push(`${L2}Liveness:\t${probeText(c.livenessProbe)}`);
    if (c.readinessProbe) out.push(`${L2}Readiness:\t${probeText(c.readinessProbe)}`);
    if (c.startupProbe) out.push(`${L2}Startup:\t${probeText(c.startupProbe)}`);
    out.push(...envLines(c, pod), ...mountLines(c));
  }
  return out;
}

function volumeSourceLines(v: Volume): string[] {
  if (v.hostPath) return [`${L2}Type:\tHostPath (bare host directory volume)`, `${L2}Path:\t${v.hostPath.path}`, `${L2}HostPathType:\t${v.hostPath.type ?? '<none>'}`];
  if (v.emptyDir) {
    const limit = v.emptyDir.sizeLimit && !Quantity.tryParse(v.emptyDir.sizeLimit)?.isZero() ? v.emptyDir.sizeLimit : '<unset>';
    return [`${L2}Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)`, `${L2}Medium:\t${v.emptyDir.medium ?? ''}`, `${L2}SizeLimit:\t${limit}`];
  }
  if (v.secret) return [`${L2}Type:\tSecret (a volume populated by a Secret)`, `${L2}SecretName:\t${v.secret.secretName ?? ''}`, `${L2}Optional:\t${v.secret.optional === true}`];
  if (v.configMap) return [`${L2}Type:\tConfigMap (a volume populated by a ConfigMap)`, `${L2}Name:\t${v.configMap.name ?? ''}`, `${L2}Optional:\t${v.configMap.optional === true}`];
  if (v.persistentVolumeClaim) {
    return [
      `${L2}Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)`,
      `${L2}ClaimName:\t${v.persistentVolumeClaim.claimName}`,
      `${L2}ReadOnly:\t${v.persistentVolumeClaim.readOnly === true}`,
    ];
  }
  if (v.downwardAPI) {
    return [
      `${L2}Type:\tDownwardAPI (a volume populated by information about the pod)`,
      `${L2}Items:`,
      ...(v.downwardAPI.items ?? []).flatMap((i) => [
        ...(i.fieldRef ? [`${L3}${i.fieldRef.fieldPath} -> ${i.path}`] : []),
        ...(i.resourceFieldRef ? [`${L3}${i.resourceFieldRef.resource} -> ${i.path}`] : []),
      ]),
    ];
  }
  if (v.projected) {
    const out = [`${L2}Type:\tProjected (a volume that contains injected data from multiple sources)`];
    for (const s of v.projected.sources ?? []) {
      if (s.secret) out.push(`${L2}SecretName:\t${s.secret.name ?? ''}`, `${L2}Optional:\t${s.secret.optional === true}`);
      else if (s.downwardAPI) out.push(`${L2}DownwardAPI:\ttrue`);
      else if (s.configMap) out.push(`${L2}ConfigMapName:\t${s.configMap.name ?? ''}`, `${L2}Optional:\t${s.configMap.optional === true}`);
      else if (s.serviceAccountToken) out.push(`${L2}TokenExpirationSeconds:\t${s.serviceAccountToken.expirationSeconds ?? 3607}`);
    }
    return out;
  }
  return [`${L1}<unknown>`];
}

export function volumeLines(volumes: Volume[] | undefined, space = ''): string[] {
  if (!volumes?.length) return [`${space}Volumes:\t<none>`];
  return [`${space}Volumes:`, ...volumes.flatMap((v) => [`${L1}${space ? ' ' : ''}${v.name}:`, ...volumeSourceLines(v)])];
}

/** `Pod Template:` as Deployments, ReplicaSets and Jobs show it. */
export function podTemplateLines(t: PodTemplateSpec | undefined): string[] {
  if (!t) return ['Pod Template:', `${L1}<unset>`];
  const spec = t.spec;
  const out = ['Pod Template:', ...labelLines('  Labels', t.metadata?.labels)];
  if (Object.keys(t.metadata?.annotations ?? {}).length) out.push(...annotationLines('  Annotations', t.metadata?.annotations));
  if (spec?.serviceAccountName) out.push(`${L1}Service Account:\t${spec.serviceAccountName}`);
  if (spec?.initContainers?.length) out.push(...containerLines('Init Containers', spec.initContainers, undefined, undefined, '  '));
  out.push(...containerLines('Containers', spec?.containers, undefined, undefined, '  '), ...volumeLines(spec?.volumes, '  '));
  if (spec?.priorityClassName) out.push(`${L1}Priority Class Name:\t${spec.priorityClassName}`);
  out.push(...labelLines('  Node-Selectors', spec?.nodeSelector), ...tolerationLines('  Tolerations', spec?.tolerations));
  return out;
}
