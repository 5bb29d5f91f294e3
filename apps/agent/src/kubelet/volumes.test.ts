import { lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '@keel/api';
import { afterAll, describe, expect, it } from 'vitest';
import { writeAtomically } from './atomic-writer';
import { containerMounts, planVolumes, serviceAccountTokenKey, writeVolumes } from './volumes';

/** What a container listing the folder sees (the writer's own entries start with '..'). */
const visible = (dir: string) => readdirSync(dir).filter((n) => !n.startsWith('..')).sort();

const root = mkdtempSync(join(tmpdir(), 'keel-volumes-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const pod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', uid: 'uid-1' },
  spec: {
    containers: [
      {
        name: 'c',
        volumeMounts: [
          { name: 'scratch', mountPath: '/scratch' },
          { name: 'config', mountPath: '/etc/config' },
          { name: 'creds', mountPath: '/etc/creds' },
          { name: 'host', mountPath: '/host', readOnly: true },
          { name: 'config', mountPath: '/etc/app.conf', subPath: 'app.conf' },
        ],
      },
    ],
    volumes: [
      { name: 'scratch', emptyDir: {} },
      { name: 'config', configMap: { name: 'cfg' } },
      { name: 'creds', secret: { secretName: 'sec', items: [{ key: 'password', path: 'db/password', mode: 0o400 }] } },
      { name: 'host', hostPath: { path: join(root, 'keel-host-dir'), type: 'DirectoryOrCreate' } },
    ],
  },
};

const sources = {
  configMaps: new Map([['cfg', { 'app.conf': 'color=blue\n', 'other.conf': 'x' }]]),
  secrets: new Map([['sec', { password: 'pw', user: 'u' }]]),
  secretBytes: new Map([['sec', { password: new TextEncoder().encode('pw'), user: new TextEncoder().encode('u') }]]),
  hostIP: '127.0.0.1',
};

describe('volumes', () => {
  it('lays volumes out under <root>/pods/<uid>/volumes/<kind>/<name> and mounts config read-only', () => {
    const plans = planVolumes(pod, root, sources);
    const base = join(root, 'pods', 'uid-1', 'volumes');
    expect(containerMounts(pod.spec!.containers[0]!, plans)).toEqual([
      { container_path: '/scratch', host_path: join(base, 'empty-dir', 'scratch'), readonly: false },
      { container_path: '/etc/config', host_path: join(base, 'configmap', 'config'), readonly: true },
      { container_path: '/etc/creds', host_path: join(base, 'secret', 'creds'), readonly: true },
      { container_path: '/host', host_path: join(root, 'keel-host-dir'), readonly: true },
      { container_path: '/etc/app.conf', host_path: join(base, 'configmap', 'config', 'app.conf'), readonly: true },
    ]);
    writeVolumes(plans.values());
    expect(visible(join(base, 'configmap', 'config'))).toEqual(['app.conf', 'other.conf']);
    expect(readFileSync(join(base, 'secret', 'creds', 'db', 'password'), 'utf8')).toBe('pw');
    expect(statSync(join(base, 'secret', 'creds', 'db', 'password')).mode & 0o777).toBe(0o400);
    expect(statSync(join(root, 'keel-host-dir')).isDirectory()).toBe(true);

    // A rewrite leaves exactly the current keys.
    writeFileSync(join(base, 'configmap', 'config', 'stale'), 'x');
    writeVolumes(planVolumes(pod, root, { ...sources, configMaps: new Map([['cfg', { 'app.conf': 'y' }]]) }).values());
    expect(visible(join(base, 'configmap', 'config'))).toEqual(['app.conf']);
  });

  it('refuses a missing ConfigMap, a missing key and a path escaping the volume', () => {
    expect(() => planVolumes(pod, root, { ...sources, configMaps: new Map() })).toThrow('configmap "cfg" not found');
    const bad: Pod = { ...pod, spec: { containers: [], volumes: [{ name: 'x', configMap: { name: 'cfg', items: [{ key: 'app.conf', path: '../../etc' }] } }] } };
    expect(() => planVolumes(bad, root, sources)).toThrow('invalid volume path');
    const missing: Pod = { ...pod, spec: { containers: [], volumes: [{ name: 'x', configMap: { name: 'cfg', items: [{ key: 'nope', path: 'n' }] } }] } };
    expect(() => planVolumes(missing, root, sources)).toThrow("couldn't find key nope in ConfigMap ns/cfg");
  });

  it('fills a projected serviceAccountToken source with the token passed in, beside ca.crt and namespace', () => {
    const token = { path: 'token', expirationSeconds: 3607 };
    const p: Pod = {
      ...pod,
      spec: {
        serviceAccountName: 'default',
        containers: [],
        volumes: [
          {
            name: 'kube-api-access-x2x4z',
            projected: {
              defaultMode: 0o644,
              sources: [
                { serviceAccountToken: token },
                { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
                { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
              ],
            },
          },
        ],
      },
    };
    const withCa = { ...sources, configMaps: new Map([['kube-root-ca.crt', { 'ca.crt': 'PEM' }]]) };
    expect(() => planVolumes(p, root, withCa)).toThrow('no token for ServiceAccount "default"');
    const plan = planVolumes(p, root, { ...withCa, serviceAccountTokens: new Map([[serviceAccountTokenKey(token), 'jwt-1']]) }).get('kube-api-access-x2x4z')!;
    expect(plan).toMatchObject({ kind: 'projected', readOnly: true });
    expect(plan.files).toEqual([
      { path: 'token', content: 'jwt-1', mode: 0o644 },
      { path: 'ca.crt', content: 'PEM', mode: 0o644 },
      { path: 'namespace', content: 'ns', mode: 0o644 },
    ]);
  });
});

describe('atomic writer', () => {
  it('swaps ..data to a fresh folder in one rename, links each name through it, and writes nothing when nothing changed', () => {
    const dir = join(root, 'atomic');
    expect(writeAtomically(dir, [{ path: 'token', content: 'a', mode: 0o644 }, { path: 'sub/x', content: 'x', mode: 0o600 }])).toBe(true);
    expect(readlinkSync(join(dir, 'token'))).toBe('..data/token');
    const first = readlinkSync(join(dir, '..data'));
    expect(first).toMatch(/^\.\.\d{4}_/);
    expect(readFileSync(join(dir, 'token'), 'utf8')).toBe('a');
    expect(statSync(join(dir, 'sub', 'x')).mode & 0o777).toBe(0o600);
    expect(writeAtomically(dir, [{ path: 'token', content: 'a', mode: 0o644 }, { path: 'sub/x', content: 'x', mode: 0o600 }])).toBe(false);
    expect(readlinkSync(join(dir, '..data'))).toBe(first);

    // A new token: a new folder behind ..data, the old one removed, a dropped name unlinked.
    expect(writeAtomically(dir, [{ path: 'token', content: 'b', mode: 0o644 }])).toBe(true);
    const second = readlinkSync(join(dir, '..data'));
    expect(second).not.toBe(first);
    expect(readFileSync(join(dir, 'token'), 'utf8')).toBe('b');
    expect(readdirSync(dir).sort()).toEqual(['..data', second, 'token'].sort());
    expect(lstatSync(join(dir, 'token')).isSymbolicLink()).toBe(true);
    // A mode change alone is a change.
    expect(writeAtomically(dir, [{ path: 'token', content: 'b', mode: 0o600 }])).toBe(true);
    expect(statSync(join(dir, 'token')).mode & 0o777).toBe(0o600);
  });
});
