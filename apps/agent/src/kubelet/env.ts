// A container's environment as Kubernetes builds it: envFrom (ConfigMaps and Secrets,
// with a prefix) first, then env in order, each value either literal with $(VAR)
// references to earlier variables expanded, or from a ConfigMap key, a Secret key or the
// downward API (metadata.name/namespace/uid/labels/annotations, spec.nodeName,
// spec.serviceAccountName, status.podIP, status.hostIP). Pure: the ConfigMaps and Secrets
// the pod names are fetched beforehand (referencedObjects) and passed in, decoded.
import type { Container, Pod } from '@keel/api';

export interface EnvSources {
  /** ConfigMap name → data (absent: not found). */
  configMaps: Map<string, Record<string, string>>;
  /** Secret name → decoded data. */
  secrets: Map<string, Record<string, string>>;
  podIP?: string;
  hostIP: string;
}

/** A reason the container cannot be created (Kubernetes: CreateContainerConfigError). */
export class ConfigError extends Error {}

/** The ConfigMaps and Secrets a pod refers to, by env, envFrom and volumes. */
export function referencedObjects(pod: Pod): { configMaps: Set<string>; secrets: Set<string> } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  const spec = pod.spec!;
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef?.name) configMaps.add(f.configMapRef.name);
      if (f.secretRef?.name) secrets.add(f.secretRef.name);
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
    }
  }
  for (const v of spec.volumes ?? []) {
    if (v.configMap?.name) configMaps.add(v.configMap.name);
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap?.name) configMaps.add(s.configMap.name);
      if (s.secret?.name) secrets.add(s.secret.name);
    }
  }
  return { configMaps, secrets };
}

/** Expands $(NAME) from `vars`; $$ is a literal $; an unknown $(NAME) stays as written. */
export function expandVars(text: string, vars: Map<string, string>): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '$' && text[i + 1] === '$') {
      out += '$';
      i++;
    } else if (ch === '$' && text[i + 1] === '(') {
      const end = text.indexOf(')', i + 2);
      if (end < 0) {
        out += text.slice(i);
        break;
      }
      const name = text.slice(i + 2, end);
      out += vars.has(name) ? vars.get(name)! : text.slice(i, end + 1);
      i = end;
    } else out += ch;
  }
  return out;
}

const bracketed = /^metadata\.(labels|annotations)\['(.+)'\]$/;

/** The downward API's value for `fieldPath`. */
export function fieldValue(pod: Pod, fieldPath: string, sources: Pick<EnvSources, 'podIP' | 'hostIP'>): string {
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
      return sources.podIP ?? '';
    case 'status.podIPs':
      return sources.podIP ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return sources.hostIP;
  }
  const m = bracketed.exec(fieldPath);
  if (m) return (m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[m[2]!] ?? '';
  throw new ConfigError(`unsupported fieldPath: ${fieldPath}`);
}

/** The container's variables in order (a later one of the same name wins, as in Kubernetes). */
export function resolveEnv(pod: Pod, container: Container, sources: EnvSources): { key: string; value: string }[] {
  const vars = new Map<string, string>();
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const data = sources.configMaps.get(from.configMapRef.name ?? '');
      if (!data && !from.configMapRef.optional) throw new ConfigError(`configmap "${from.configMapRef.name}" not found`);
      for (const [k, v] of Object.entries(data ?? {})) vars.set(prefix + k, v);
    }
    if (from.secretRef) {
      const data = sources.secrets.get(from.secretRef.name ?? '');
      if (!data && !from.secretRef.optional) throw new ConfigError(`secret "${from.secretRef.name}" not found`);
      for (const [k, v] of Object.entries(data ?? {})) vars.set(prefix + k, v);
    }
  }
  for (const e of container.env ?? []) {
    const from = e.valueFrom;
    if (!from) {
      vars.set(e.name, expandVars(e.value ?? '', vars));
      continue;
    }
    if (from.fieldRef) vars.set(e.name, fieldValue(pod, from.fieldRef.fieldPath, sources));
    else if (from.configMapKeyRef) {
      const ref = from.configMapKeyRef;
      const data = sources.configMaps.get(ref.name ?? '');
      if (!data) {
        if (ref.optional) continue;
        throw new ConfigError(`configmap "${ref.name}" not found`);
      }
      if (!(ref.key in data)) {
        if (ref.optional) continue;
        throw new ConfigError(`couldn't find key ${ref.key} in ConfigMap ${pod.metadata.namespace}/${ref.name}`);
      }
      vars.set(e.name, data[ref.key]!);
    } else if (from.secretKeyRef) {
      const ref = from.secretKeyRef;
      const data = sources.secrets.get(ref.name ?? '');
      if (!data) {
        if (ref.optional) continue;
        throw new ConfigError(`secret "${ref.name}" not found`);
      }
      if (!(ref.key in data)) {
        if (ref.optional) continue;
        throw new ConfigError(`couldn't find key ${ref.key} in Secret ${pod.metadata.namespace}/${ref.name}`);
      }
      vars.set(e.name, data[ref.key]!);
    } else if (from.resourceFieldRef) {
      vars.set(e.name, resourceFieldValue(container, from.resourceFieldRef.resource, from.resourceFieldRef.divisor));
    }
  }
  return [...vars].map(([key, value]) => ({ key, value }));
}

/** limits.cpu / limits.memory / requests.* in units of `divisor` (rounded up), as the downward API gives them. */
function resourceFieldValue(container: Container, resource: string, divisor = '1'): string {
  const [kind, name] = resource.split('.') as ['limits' | 'requests', string];
  const raw = container.resources?.[kind]?.[name];
  if (raw === undefined) return '0';
  const value = quantityValue(raw);
  return String(Math.ceil(value / quantityValue(divisor)));
}

const suffixes: Record<string, number> = { m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** A quantity as a float (enough for limits and divisors). */
export function quantityValue(q: string): number {
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(q);
  if (!m || !(m[2]! in suffixes)) throw new ConfigError(`bad quantity ${q}`);
  return Number(m[1]) * suffixes[m[2]!]!;
}
