import type { Pod } from '@keel/api';
import { describe, expect, it } from 'vitest';
import { ConfigError, type EnvSources, expandVars, referencedObjects, resolveEnv } from './env';

const pod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'shop', uid: 'u-1', labels: { app: 'web' } },
  spec: {
    nodeName: 'node-a',
    containers: [
      {
        name: 'c',
        image: 'x',
        resources: { limits: { memory: '64Mi', cpu: '500m' } },
        envFrom: [{ configMapRef: { name: 'base' }, prefix: 'BASE_' }],
        env: [
          { name: 'GREETING', value: 'hello' },
          { name: 'MSG', value: '$(GREETING) world, $$(GREETING) $(NOPE)' },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'color' } } },
          { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
          { name: 'MAYBE', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope', optional: true } } },
          { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        ],
      },
    ],
    volumes: [{ name: 'v', secret: { secretName: 'tls' } }],
  },
};

const sources: EnvSources = {
  configMaps: new Map<string, Record<string, string>>([
    ['base', { A: '1' }],
    ['cfg', { color: 'blue' }],
  ]),
  secrets: new Map([['creds', { password: 's3cret' }]]),
  podIP: '10.244.9.5',
  hostIP: '127.0.0.1',
};

describe('env', () => {
  it('resolves literals, references, ConfigMap and Secret keys and the downward API in order', () => {
    expect(resolveEnv(pod, pod.spec!.containers[0]!, sources)).toEqual([
      { key: 'BASE_A', value: '1' },
      { key: 'GREETING', value: 'hello' },
      { key: 'MSG', value: 'hello world, $(GREETING) $(NOPE)' },
      { key: 'POD', value: 'web' },
      { key: 'NS', value: 'shop' },
      { key: 'UID', value: 'u-1' },
      { key: 'IP', value: '10.244.9.5' },
      { key: 'NODE', value: 'node-a' },
      { key: 'APP', value: 'web' },
      { key: 'COLOR', value: 'blue' },
      { key: 'PASSWORD', value: 's3cret' },
      { key: 'MEM', value: '64' },
    ]);
  });

  it('refuses a missing ConfigMap or key with Kubernetes-like messages', () => {
    const c = { name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'size' } } }] };
    expect(() => resolveEnv(pod, c, sources)).toThrow(new ConfigError("couldn't find key size in ConfigMap shop/cfg"));
    const d = { name: 'd', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k' } } }] };
    expect(() => resolveEnv(pod, d, sources)).toThrow('configmap "gone" not found');
  });

  it('expands only known names and unescapes $$', () => {
    expect(expandVars('$(A)-$$(A)-$(B)-$(', new Map([['A', 'x']]))).toBe('x-$(A)-$(B)-$(');
  });

  it('lists the objects a pod refers to', () => {
    const refs = referencedObjects(pod);
    expect([...refs.configMaps]).toEqual(['base', 'cfg']);
    expect([...refs.secrets]).toEqual(['creds', 'tls']);
  });
});
