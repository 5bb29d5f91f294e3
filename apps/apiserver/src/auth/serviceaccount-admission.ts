// The ServiceAccount admission plugin's token mount: a pod that may automount its
// ServiceAccount's credentials gets a projected `kube-api-access-<5 chars>` volume (a bound
// token the agent requests through TokenRequest, the cluster CA from the kube-root-ca.crt
// ConfigMap, and its namespace) mounted read-only at the well-known path in every container
// and init container. Opting out, on the pod or on its ServiceAccount, with
// automountServiceAccountToken: false leaves the pod alone, and so does a container that
// already mounts something there. Pure: the ServiceAccount and the random suffix come in.
import type { Container, Pod, ServiceAccount, Volume } from '@keel/api';

export const ServiceAccountTokenMountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
export const ServiceAccountVolumePrefix = 'kube-api-access-';
export const RootCAConfigMap = 'kube-root-ca.crt';
/** kubelet refreshes well before expiry; one hour and a few seconds marks tokens the admission asked for. */
export const ServiceAccountTokenExpirationSeconds = 3607;

/** Kubernetes' alphabet for random name suffixes: no vowels (no words), no look-alikes. */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Five characters of the suffix alphabet, from `random` in [0, 1). */
export function randomSuffix(random: () => number): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += SUFFIX_ALPHABET[Math.floor(random() * SUFFIX_ALPHABET.length)];
  return s;
}

/** The projected volume the admission adds, with every field set (defaulting has already run). */
export function serviceAccountVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { path: 'token', expirationSeconds: ServiceAccountTokenExpirationSeconds } },
        { configMap: { name: RootCAConfigMap, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

function mountsTokenPath(c: Container): boolean {
  return (c.volumeMounts ?? []).some((m) => m.mountPath === ServiceAccountTokenMountPath || m.mountPath === `${ServiceAccountTokenMountPath}/`);
}

/**
 * Adds the token volume and mounts to `pod` in place, unless it opted out; answers the
 * volume's name, or undefined when nothing was added.
 */
export function mountServiceAccountToken(pod: Pod, serviceAccount: ServiceAccount | undefined, random: () => number): string | undefined {
  const spec = pod.spec;
  if (!spec) return undefined;
  // The pod's own setting wins over its ServiceAccount's.
  const automount = spec.automountServiceAccountToken ?? serviceAccount?.automountServiceAccountToken ?? true;
  if (!automount) return undefined;
  const containers = [...(spec.initContainers ?? []), ...spec.containers];
  const needing = containers.filter((c) => !mountsTokenPath(c));
  if (needing.length === 0) return undefined;
  const taken = new Set((spec.volumes ?? []).map((v) => v.name));
  let name: string;
  do name = ServiceAccountVolumePrefix + randomSuffix(random);
  while (taken.has(name));
  spec.volumes = [...(spec.volumes ?? []), serviceAccountVolume(name)];
  for (const c of needing) c.volumeMounts = [...(c.volumeMounts ?? []), { name, readOnly: true, mountPath: ServiceAccountTokenMountPath }];
  return name;
}
