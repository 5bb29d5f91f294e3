import type { Pod, ServiceAccount } from '@keel/api';
import { describe, expect, it } from 'vitest';
import { mountServiceAccountToken, randomSuffix, ServiceAccountTokenMountPath } from './serviceaccount-admission';

const pod = (extra: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'team-a' },
  spec: { containers: [{ name: 'main', image: 'busybox' }, { name: 'side', image: 'busybox', volumeMounts: [{ name: 'data', mountPath: '/data' }] }], ...extra },
});
const sa = (automount?: boolean): ServiceAccount => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'team-a' }, ...(automount === undefined ? {} : { automountServiceAccountToken: automount }) });
const seq = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe('ServiceAccount admission: the token volume', () => {
  it('adds kube-api-access-<5> (token 3607 s, kube-root-ca.crt ca.crt, namespace) and a read-only mount in every container and init container', () => {
    const p = pod({ initContainers: [{ name: 'init', image: 'busybox' }] });
    const name = mountServiceAccountToken(p, sa(), seq(0, 0.5, 0.99, 0.1, 0.3));
    expect(name).toMatch(/^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(name).toBe(`kube-api-access-${randomSuffix(seq(0, 0.5, 0.99, 0.1, 0.3))}`);
    expect(p.spec!.volumes).toEqual([
      {
        name,
        projected: {
          defaultMode: 0o644,
          sources: [
            { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
          ],
        },
      },
    ]);
    for (const c of [...p.spec!.initContainers!, ...p.spec!.containers]) {
      expect(c.volumeMounts!.at(-1)).toEqual({ name, readOnly: true, mountPath: ServiceAccountTokenMountPath });
    }
    expect(p.spec!.containers[1]!.volumeMounts![0]).toEqual({ name: 'data', mountPath: '/data' });
  });

  it('does nothing when the pod or (without a pod setting) its ServiceAccount opts out', () => {
    const off = pod({ automountServiceAccountToken: false });
    expect(mountServiceAccountToken(off, sa(true), Math.random)).toBeUndefined();
    expect(off.spec!.volumes).toBeUndefined();
    const saOff = pod();
    expect(mountServiceAccountToken(saOff, sa(false), Math.random)).toBeUndefined();
    expect(saOff.spec!.containers[0]!.volumeMounts).toBeUndefined();
    // The pod's own true wins over the ServiceAccount's false.
    expect(mountServiceAccountToken(pod({ automountServiceAccountToken: true }), sa(false), Math.random)).toBeDefined();
    // An unknown ServiceAccount does not stop the mount.
    expect(mountServiceAccountToken(pod(), undefined, Math.random)).toBeDefined();
  });

  it('leaves a container that already mounts the path alone, and adds nothing when all do', () => {
    const own = { name: 'mine', mountPath: ServiceAccountTokenMountPath };
    const p = pod();
    p.spec!.containers[0]!.volumeMounts = [own];
    const name = mountServiceAccountToken(p, sa(), Math.random)!;
    expect(p.spec!.containers[0]!.volumeMounts).toEqual([own]);
    expect(p.spec!.containers[1]!.volumeMounts!.map((m) => m.name)).toEqual(['data', name]);
    const all = pod();
    for (const c of all.spec!.containers) c.volumeMounts = [own];
    expect(mountServiceAccountToken(all, sa(), Math.random)).toBeUndefined();
    expect(all.spec!.volumes).toBeUndefined();
  });

  it('never reuses the name of an existing volume', () => {
    const p = pod({ volumes: [{ name: 'kube-api-access-bbbbb', emptyDir: {} }] });
    // The first draw collides (all b's), the second does not.
    const draws = [0, 0, 0, 0, 0, 0.99, 0.99, 0.99, 0.99, 0.99];
    let i = 0;
    expect(mountServiceAccountToken(p, sa(), () => draws[i++]!)).toBe('kube-api-access-99999');
    expect(p.spec!.volumes!.map((v) => v.name)).toEqual(['kube-api-access-bbbbb', 'kube-api-access-99999']);
  });
});
