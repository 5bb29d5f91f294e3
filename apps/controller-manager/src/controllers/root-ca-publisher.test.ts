import type { ConfigMap, Namespace } from '@keel/api';
import { Resources } from '@keel/client';
import { afterEach, describe, expect, it } from 'vitest';
import { Harness } from '../testing/harness';
import { ts } from './fixtures.test-helpers';
import { RootCAPublisher } from './root-ca-publisher';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const ns = (name: string, terminating = false): Namespace => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, ...(terminating ? { deletionTimestamp: ts() } : {}) },
  status: { phase: terminating ? 'Terminating' : 'Active' },
});

describe('root CA publisher', () => {
  let h: Harness<RootCAPublisher>;
  afterEach(() => h?.stop());

  it('creates kube-root-ca.crt with ca.crt in an active namespace, once, and not in a terminating one', async () => {
    h = new Harness((ctx) => new RootCAPublisher(ctx), { rootCA: CA });
    h.seed(Resources.namespaces, ns('team'));
    h.seed(Resources.namespaces, ns('gone', true));
    expect(await h.reconcile('team')).toEqual(['create configmaps/team/kube-root-ca.crt']);
    expect((await h.get<ConfigMap>(Resources.configMaps, 'team', 'kube-root-ca.crt')).data).toEqual({ 'ca.crt': CA });
    expect(await h.reconcile('team')).toEqual([]);
    expect(await h.reconcile('gone')).toEqual([]);
  });

  it('puts ca.crt back when someone changed it, keeping their other keys', async () => {
    h = new Harness((ctx) => new RootCAPublisher(ctx), { rootCA: CA });
    h.seed(Resources.namespaces, ns('team'));
    h.seed(Resources.configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: 'team' }, data: { 'ca.crt': 'stale', extra: 'x' } } as ConfigMap);
    expect(await h.reconcile('team')).toEqual(['update configmaps/team/kube-root-ca.crt']);
    expect((await h.get<ConfigMap>(Resources.configMaps, 'team', 'kube-root-ca.crt')).data).toEqual({ 'ca.crt': CA, extra: 'x' });
  });

  it('publishes nothing without a CA', async () => {
    h = new Harness((ctx) => new RootCAPublisher(ctx));
    h.seed(Resources.namespaces, ns('team'));
    expect(await h.reconcile('team')).toEqual([]);
  });
});
