// Pod volumes on the node: where each lives under the agent's root dir, which files a
// configMap, secret, downwardAPI or projected volume holds, and the CRI mounts of a
// container. Layout (as kubelet's /var/lib/kubelet/pods): <root>/pods/<uid>/volumes/
// <kind>/<name>; emptyDir is a folder, hostPath is the host's path. configMap, secret,
// downwardAPI and projected volumes are mounted read-only and written atomically
// (atomic-writer.ts), as Kubernetes does. A projected serviceAccountToken source takes the
// token the worker got through TokenRequest (token-manager.ts), passed in with the other
// sources. planVolumes is pure; writeVolumes touches the disk.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import type { Container, KeyToPath, Pod, ServiceAccountTokenProjection, Volume } from '@keel/api';
import { writeAtomically } from './atomic-writer';
import type { Mount } from '@keel/cri';
import { ConfigError, fieldValue, type EnvSources } from './env';

export interface VolumeFile {
  /** Relative to the volume's folder. */
  path: string;
  content: string | Uint8Array;
  mode: number;
}

export interface VolumePlan {
  name: string;
  kind: 'empty-dir' | 'host-path' | 'configmap' | 'secret' | 'downward-api' | 'projected';
  hostPath: string;
  readOnly: boolean;
  /** For file-backed kinds: the whole content (the folder is made to hold exactly these). */
  files?: VolumeFile[];
  /** hostPath type DirectoryOrCreate/FileOrCreate. */
  create?: 'dir' | 'file';
}

/** Secret data for volumes keeps raw bytes: name → key → bytes. */
export interface VolumeSources extends EnvSources {
  secretBytes: Map<string, Record<string, Uint8Array>>;
  /** Tokens for the pod's serviceAccountToken projections, by serviceAccountTokenKey. */
  serviceAccountTokens?: Map<string, string>;
}

/** Which token a projection wants: one per audience and lifetime. */
export function serviceAccountTokenKey(p: ServiceAccountTokenProjection): string {
  return `${p.audience ?? ''}/${p.expirationSeconds ?? 3600}`;
}

/** The serviceAccountToken projections of the pod's volumes. */
export function serviceAccountTokenProjections(pod: Pod): ServiceAccountTokenProjection[] {
  return (pod.spec?.volumes ?? []).flatMap((v) => (v.projected?.sources ?? []).flatMap((s) => (s.serviceAccountToken ? [s.serviceAccountToken] : [])));
}

export function podDir(rootDir: string, uid: string): string {
  return join(rootDir, 'pods', uid);
}

function safeRelative(path: string): string {
  const p = normalize(path);
  if (p.startsWith('/') || p.startsWith('..') || p === '.') throw new ConfigError(`invalid volume path ${path}`);
  return p;
}

/** The files of a key → value map, all keys or only `items`. */
export function projectKeys<V extends string | Uint8Array>(
  data: Record<string, V>,
  items: KeyToPath[] | undefined,
  defaultMode: number,
  what: string,
  optional = false,
): VolumeFile[] {
  if (!items?.length) return Object.keys(data).sort().map((k) => ({ path: safeRelative(k), content: data[k]!, mode: defaultMode }));
  return items.flatMap((item) => {
    if (!(item.key in data)) {
      if (optional) return [];
      throw new ConfigError(`couldn't find key ${item.key} in ${what}`);
    }
    return [{ path: safeRelative(item.path), content: data[item.key]!, mode: item.mode ?? defaultMode }];
  });
}

function planOne(pod: Pod, v: Volume, dir: string, s: VolumeSources): VolumePlan {
  const ns = pod.metadata.namespace;
  const at = (kind: string) => join(dir, 'volumes', kind, v.name);
  if (v.emptyDir) return { name: v.name, kind: 'empty-dir', hostPath: at('empty-dir'), readOnly: false };
  if (v.hostPath) {
    const t = v.hostPath.type;
    return { name: v.name, kind: 'host-path', hostPath: v.hostPath.path, readOnly: false, create: t === 'DirectoryOrCreate' ? 'dir' : t === 'FileOrCreate' ? 'file' : undefined };
  }
  if (v.configMap) {
    const name = v.configMap.name ?? '';
    const data = s.configMaps.get(name);
    if (!data && !v.configMap.optional) throw new ConfigError(`configmap "${name}" not found`);
    const files = projectKeys(data ?? {}, v.configMap.items, v.configMap.defaultMode ?? 0o644, `ConfigMap ${ns}/${name}`, v.configMap.optional);
    return { name: v.name, kind: 'configmap', hostPath: at('configmap'), readOnly: true, files };
  }
  if (v.secret) {
    const name = v.secret.secretName ?? '';
    const data = s.secretBytes.get(name);
    if (!data && !v.secret.optional) throw new ConfigError(`secret "${name}" not found`);
    const files = projectKeys(data ?? {}, v.secret.items, v.secret.defaultMode ?? 0o644, `Secret ${ns}/${name}`, v.secret.optional);
    return { name: v.name, kind: 'secret', hostPath: at('secret'), readOnly: true, files };
  }
  if (v.downwardAPI) {
    const mode = v.downwardAPI.defaultMode ?? 0o644;
    const files = (v.downwardAPI.items ?? []).filter((i) => i.fieldRef).map((i) => ({ path: safeRelative(i.path), content: fieldValue(pod, i.fieldRef!.fieldPath, s), mode: i.mode ?? mode }));
    return { name: v.name, kind: 'downward-api', hostPath: at('downward-api'), readOnly: true, files };
  }
  if (v.projected) {
    const mode = v.projected.defaultMode ?? 0o644;
    const files: VolumeFile[] = [];
    for (const src of v.projected.sources ?? []) {
      if (src.configMap) {
        const data = s.configMaps.get(src.configMap.name ?? '');
        if (!data && !src.configMap.optional) throw new ConfigError(`configmap "${src.configMap.name}" not found`);
        files.push(...projectKeys(data ?? {}, src.configMap.items, mode, `ConfigMap ${ns}/${src.configMap.name}`, src.configMap.optional));
      } else if (src.secret) {
        const data = s.secretBytes.get(src.secret.name ?? '');
        if (!data && !src.secret.optional) throw new ConfigError(`secret "${src.secret.name}" not found`);
        files.push(...projectKeys(data ?? {}, src.secret.items, mode, `Secret ${ns}/${src.secret.name}`, src.secret.optional));
      } else if (src.downwardAPI) {
        for (const i of src.downwardAPI.items ?? []) if (i.fieldRef) files.push({ path: safeRelative(i.path), content: fieldValue(pod, i.fieldRef.fieldPath, s), mode: i.mode ?? mode });
      }
      if (src.serviceAccountToken) {
        const token = s.serviceAccountTokens?.get(serviceAccountTokenKey(src.serviceAccountToken));
        if (token === undefined) throw new ConfigError(`volume ${v.name}: no token for ServiceAccount "${pod.spec?.serviceAccountName ?? 'default'}"`);
        files.push({ path: safeRelative(src.serviceAccountToken.path), content: token, mode });
      }
    }
    return { name: v.name, kind: 'projected', hostPath: at('projected'), readOnly: true, files };
  }
  throw new ConfigError(`volume ${v.name}: unsupported volume type`);
}

/** Every volume of the pod; a missing non-optional source is a ConfigError. */
export function planVolumes(pod: Pod, rootDir: string, sources: VolumeSources): Map<string, VolumePlan> {
  const dir = podDir(rootDir, pod.metadata.uid!);
  return new Map((pod.spec?.volumes ?? []).map((v) => [v.name, planOne(pod, v, dir, sources)]));
}

/** Creates folders and writes files; a file-backed volume is made to hold exactly its files. */
export function writeVolumes(plans: Iterable<VolumePlan>): void {
  for (const p of plans) {
    if (p.kind === 'host-path') {
      if (p.create === 'dir') mkdirSync(p.hostPath, { recursive: true });
      if (p.create === 'file') {
        mkdirSync(dirname(p.hostPath), { recursive: true });
        try {
          statSync(p.hostPath);
        } catch {
          writeFileSync(p.hostPath, '');
        }
      }
      continue;
    }
    if (!p.files) {
      mkdirSync(p.hostPath, { recursive: true });
      continue;
    }
    writeAtomically(p.hostPath, p.files);
  }
}

/** The CRI mounts of one container. */
export function containerMounts(container: Container, volumes: Map<string, VolumePlan>): Mount[] {
  return (container.volumeMounts ?? []).map((m) => {
    const v = volumes.get(m.name);
    if (!v) throw new ConfigError(`unable to find volume "${m.name}" for container ${container.name}`);
    return {
      container_path: m.mountPath,
      host_path: m.subPath ? join(v.hostPath, safeRelative(m.subPath)) : v.hostPath,
      readonly: v.readOnly || !!m.readOnly,
    };
  });
}
