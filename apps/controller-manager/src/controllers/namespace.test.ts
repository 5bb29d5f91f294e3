import type { Namespace, ServiceAccount } from '@keel/api';
import { Resources } from '@keel/client';
import { afterEach, describe, expect, it } from 'vitest';
import { Harness } from '../testing/harness';
import { pod, ts } from './fixtures.test-helpers';
import { NamespaceController, namespacedResources } from './namespace';
import { ServiceAccountController } from './serviceaccount';

const ns = (name: string, terminating = false): Namespace => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, ...(terminating ? { deletionTimestamp: ts() } : {}) },
  spec: { finalizers: ['kubernetes'] },
  status: { phase: terminating ? 'Terminating' : 'Active' },
});

describe('Namespace controller', () => {
  let h: Harness<NamespaceController>;
  afterEach(() => h?.stop());

  it('covers every namespaced resource that can be listed and deleted', () => {
    expect(namespacedResources().map((r) => r.resource)).toEqual(expect.arrayContaining(['pods', 'deployments', 'replicasets', 'jobs', 'services', 'endpoints', 'endpointslices', 'configmaps', 'secrets', 'serviceaccounts', 'leases', 'events']));
    expect(namespacedResources().map((r) => r.resource)).not.toContain('bindings');
  });

  it('deletes the contents of a terminating namespace, then asks to finalize it', async () => {
    h = new Harness((ctx) => new NamespaceController(ctx));
    h.seed(Resources.namespaces, ns('doomed', true));
    h.seed(Resources.pods, { ...pod('p', {}), metadata: { name: 'p', namespace: 'doomed' } });
    h.seed(Resources.configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'doomed' } });
    h.seed(Resources.pods, { ...pod('keep', {}), metadata: { name: 'keep', namespace: 'other' } });
    const writes = await h.reconcile('doomed');
    expect(writes).toEqual(expect.arrayContaining(['delete pods/doomed/p', 'delete configmaps/doomed/c']));
    expect(writes).not.toContain('delete pods/other/keep');
    // Empty now: the kubernetes finalizer goes through namespaces/finalize (FakeApi takes it as an update).
    expect(await h.reconcile('doomed')).toEqual(['update namespaces//doomed']);
    expect((await h.get<Namespace>(Resources.namespaces, undefined, 'doomed')).spec?.finalizers).toEqual([]);
  });

  it('ignores active namespaces', async () => {
    h = new Harness((ctx) => new NamespaceController(ctx));
    h.seed(Resources.namespaces, ns('live'));
    expect(await h.reconcile('live')).toEqual([]);
  });
});

describe('ServiceAccount controller', () => {
  let h: Harness<ServiceAccountController>;
  afterEach(() => h?.stop());

  it('creates the default ServiceAccount in an active namespace, once, and not in a terminating one', async () => {
    h = new Harness((ctx) => new ServiceAccountController(ctx));
    h.seed(Resources.namespaces, ns('team'));
    h.seed(Resources.namespaces, ns('gone', true));
    expect(await h.reconcile('team')).toEqual(['create serviceaccounts/team/default']);
    expect(await h.reconcile('team')).toEqual([]);
    expect(await h.reconcile('gone')).toEqual([]);
    expect((await h.get<ServiceAccount>(Resources.serviceAccounts, 'team', 'default')).metadata.name).toBe('default');
  });
});
