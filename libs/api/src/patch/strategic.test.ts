// Strategic merge patch: each merge key of the kinds Keel serves, each directive, and the
// fallbacks for fields and kinds without metadata.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PatchError } from './errors';
import type { JsonObject } from './json';
import { applyStrategicMergePatch, createThreeWayMergePatch, createTwoWayMergePatch } from './strategic';
import { hasSchema, schemaFor } from './strategic-metadata';

const pod = schemaFor('v1', 'Pod');
const deployment = schemaFor('apps/v1', 'Deployment');

function podWith(spec: JsonObject): JsonObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec };
}

describe('strategic merge: maps and scalars', () => {
  it('merges maps, keeps keys the patch leaves out, deletes keys set to null', () => {
    const obj = { metadata: { labels: { app: 'web', tier: 'fe' }, annotations: { a: '1' } }, spec: { replicas: 1 } };
    const out = applyStrategicMergePatch(obj, { metadata: { labels: { tier: null, env: 'prod' } }, spec: { replicas: 3 } }, deployment);
    expect(out).toEqual({ metadata: { labels: { app: 'web', env: 'prod' }, annotations: { a: '1' } }, spec: { replicas: 3 } });
  });

  it('does not modify the original or the patch', () => {
    const obj = podWith({ containers: [{ name: 'a', image: 'x' }] });
    const patch = { spec: { containers: [{ name: 'a', image: 'y' }] } };
    const before = JSON.stringify([obj, patch]);
    applyStrategicMergePatch(obj, patch, pod);
    expect(JSON.stringify([obj, patch])).toBe(before);
  });

  it('rejects a patch that is not an object', () => {
    expect(() => applyStrategicMergePatch({}, [1], pod)).toThrow(PatchError);
  });
});

describe('strategic merge: lists with merge keys', () => {
  const base = podWith({
    containers: [
      {
        name: 'web',
        image: 'web:1',
        ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }],
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
        volumeMounts: [{ mountPath: '/data', name: 'data' }],
        args: ['--a', '--b'],
      },
      { name: 'sidecar', image: 'side:1' },
    ],
    initContainers: [{ name: 'init', image: 'init:1' }],
    volumes: [{ name: 'data', emptyDir: {} }],
    imagePullSecrets: [{ name: 'reg' }],
    tolerations: [{ key: 'a', operator: 'Exists' }],
  });

  it('containers merge by name: a change touches one container; a new one comes before later server-only ones', () => {
    const out = applyStrategicMergePatch(base, { spec: { containers: [{ name: 'web', image: 'web:2' }, { name: 'new', image: 'n' }] } }, pod);
    const containers = (out['spec'] as JsonObject)['containers'] as JsonObject[];
    // Kubernetes' order: patch elements in patch order, server-only ones interleaved by their old
    // position only relative to patch elements that were there before.
    expect(containers.map((c) => c['name'])).toEqual(['web', 'new', 'sidecar']);
    expect(containers[0]!['image']).toBe('web:2');
    expect(containers[0]!['env']).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
  });

  it('initContainers merge by name', () => {
    const out = applyStrategicMergePatch(base, { spec: { initContainers: [{ name: 'init', image: 'init:2' }] } }, pod);
    expect((out['spec'] as JsonObject)['initContainers']).toEqual([{ name: 'init', image: 'init:2' }]);
  });

  it('ports merge by containerPort, env by name, volumeMounts by mountPath', () => {
    const out = applyStrategicMergePatch(
      base,
      {
        spec: {
          containers: [
            {
              name: 'web',
              ports: [{ containerPort: 80, name: 'web' }, { containerPort: 443 }],
              env: [{ name: 'B', value: 'two' }, { name: 'C', value: '3' }],
              volumeMounts: [{ mountPath: '/data', readOnly: true }],
            },
          ],
        },
      },
      pod,
    );
    const web = ((out['spec'] as JsonObject)['containers'] as JsonObject[])[0]!;
    expect(web['ports']).toEqual([{ containerPort: 80, protocol: 'TCP', name: 'web' }, { containerPort: 443 }]);
    expect(web['env']).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: 'two' },
      { name: 'C', value: '3' },
    ]);
    expect(web['volumeMounts']).toEqual([{ mountPath: '/data', name: 'data', readOnly: true }]);
  });

  it('volumes and imagePullSecrets merge by name', () => {
    const out = applyStrategicMergePatch(
      base,
      { spec: { volumes: [{ name: 'cfg', configMap: { name: 'c' } }], imagePullSecrets: [{ name: 'other' }] } },
      pod,
    );
    expect((out['spec'] as JsonObject)['volumes']).toEqual([
      { name: 'cfg', configMap: { name: 'c' } },
      { name: 'data', emptyDir: {} },
    ]);
    expect((out['spec'] as JsonObject)['imagePullSecrets']).toEqual([{ name: 'other' }, { name: 'reg' }]);
  });

  it('lists without a merge key are replaced whole: tolerations, args', () => {
    const out = applyStrategicMergePatch(
      base,
      { spec: { tolerations: [{ key: 'b', operator: 'Exists' }], containers: [{ name: 'web', args: ['--c'] }] } },
      pod,
    );
    expect((out['spec'] as JsonObject)['tolerations']).toEqual([{ key: 'b', operator: 'Exists' }]);
    expect(((out['spec'] as JsonObject)['containers'] as JsonObject[])[0]!['args']).toEqual(['--c']);
  });

  it('a list element without its merge key is refused, naming the list', () => {
    try {
      applyStrategicMergePatch(base, { spec: { containers: [{ image: 'x' }] } }, pod);
      expect.unreachable();
    } catch (err) {
      expect((err as PatchError).code).toBe('InvalidPatch');
      expect((err as PatchError).path).toBe('spec.containers');
    }
  });

  it('the same metadata applies under a workload template (Deployment, ReplicaSet, DaemonSet, Job)', () => {
    for (const [apiVersion, kind] of [
      ['apps/v1', 'Deployment'],
      ['apps/v1', 'ReplicaSet'],
      ['apps/v1', 'DaemonSet'],
      ['batch/v1', 'Job'],
    ] as const) {
      const obj = { spec: { template: { spec: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '1' }] } } } };
      const out = applyStrategicMergePatch(obj, { spec: { template: { spec: { containers: [{ name: 'b', image: '2' }] } } } }, schemaFor(apiVersion, kind));
      expect(out).toEqual({ spec: { template: { spec: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '2' }] } } } });
    }
  });

  it('Service ports merge by port', () => {
    const svc: JsonObject = { spec: { ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }, { port: 443, targetPort: 8443 }], selector: { app: 'web' } } };
    const out = applyStrategicMergePatch(svc, { spec: { ports: [{ port: 80, targetPort: 9090 }] } }, schemaFor('v1', 'Service'));
    expect((out['spec'] as JsonObject)['ports']).toEqual([
      { port: 80, targetPort: 9090, protocol: 'TCP' },
      { port: 443, targetPort: 8443 },
    ]);
  });

  it('ownerReferences merge by uid', () => {
    const obj = { metadata: { ownerReferences: [{ uid: '1', name: 'a', kind: 'ReplicaSet' }] } };
    const out = applyStrategicMergePatch(obj, { metadata: { ownerReferences: [{ uid: '2', name: 'b', kind: 'ReplicaSet' }, { uid: '1', controller: true }] } }, pod);
    expect((out['metadata'] as JsonObject)['ownerReferences']).toEqual([
      { uid: '2', name: 'b', kind: 'ReplicaSet' },
      { uid: '1', name: 'a', kind: 'ReplicaSet', controller: true },
    ]);
  });

  it('Node taints have no patch strategy and are replaced; status conditions merge by type', () => {
    const node = schemaFor('v1', 'Node');
    const obj = {
      spec: { taints: [{ key: 'a', effect: 'NoSchedule' }] },
      status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'MemoryPressure', status: 'False' }] },
    };
    const out = applyStrategicMergePatch(obj, { spec: { taints: [{ key: 'b', effect: 'NoExecute' }] }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }, node);
    expect(out).toEqual({
      spec: { taints: [{ key: 'b', effect: 'NoExecute' }] },
      status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'MemoryPressure', status: 'False' }] },
    });
  });
});

describe('strategic merge: primitive merge lists (finalizers)', () => {
  const obj = { metadata: { finalizers: ['a', 'b'] } };

  it('adds what is missing and keeps what is there, in patch order first', () => {
    expect(applyStrategicMergePatch(obj, { metadata: { finalizers: ['c', 'a'] } }, pod)).toEqual({ metadata: { finalizers: ['c', 'a', 'b'] } });
    expect(applyStrategicMergePatch(obj, { metadata: { finalizers: ['a', 'a'] } }, pod)).toEqual({ metadata: { finalizers: ['a', 'b'] } });
  });

  it('$deleteFromPrimitiveList removes values', () => {
    expect(applyStrategicMergePatch(obj, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a', 'zzz'] } }, pod)).toEqual({
      metadata: { finalizers: ['b'] },
    });
  });

  it('$setElementOrder orders a primitive list', () => {
    expect(
      applyStrategicMergePatch(obj, { metadata: { '$setElementOrder/finalizers': ['c', 'b', 'a'], finalizers: ['c'] } }, pod),
    ).toEqual({ metadata: { finalizers: ['c', 'b', 'a'] } });
  });

  it('a list of primitives refuses objects', () => {
    expect(() => applyStrategicMergePatch(obj, { metadata: { finalizers: [{ a: 1 }] } }, pod)).toThrow(PatchError);
  });
});

describe('strategic merge: directives', () => {
  it('$patch: delete on a list element removes it by merge key', () => {
    const obj = podWith({ containers: [{ name: 'a' }, { name: 'b' }] });
    const out = applyStrategicMergePatch(obj, { spec: { containers: [{ name: 'a', $patch: 'delete' }] } }, pod);
    expect((out['spec'] as JsonObject)['containers']).toEqual([{ name: 'b' }]);
  });

  it('$patch: delete on a map empties it, as Kubernetes does', () => {
    const obj = { spec: { template: { spec: { securityContext: { runAsUser: 1 } } } } };
    expect(applyStrategicMergePatch(obj, { spec: { template: { spec: { securityContext: { $patch: 'delete' } } } } }, deployment)).toEqual({
      spec: { template: { spec: { securityContext: {} } } },
    });
  });

  it('$patch: replace on a map makes it exactly the patch', () => {
    const obj = { metadata: { labels: { a: '1', b: '2' } } };
    expect(applyStrategicMergePatch(obj, { metadata: { labels: { $patch: 'replace', c: '3' } } }, pod)).toEqual({ metadata: { labels: { c: '3' } } });
  });

  it('{"$patch": "replace"} in a merge list replaces the list', () => {
    const obj = podWith({ containers: [{ name: 'a', image: '1' }, { name: 'b' }] });
    const out = applyStrategicMergePatch(obj, { spec: { containers: [{ name: 'c' }, { $patch: 'replace' }] } }, pod);
    expect((out['spec'] as JsonObject)['containers']).toEqual([{ name: 'c' }]);
  });

  it('$patch: merge is the default, and an unknown directive is refused', () => {
    const obj = { metadata: { labels: { a: '1' } } };
    expect(applyStrategicMergePatch(obj, { metadata: { labels: { $patch: 'merge', b: '2' } } }, pod)).toEqual({ metadata: { labels: { a: '1', b: '2' } } });
    expect(() => applyStrategicMergePatch(obj, { metadata: { $patch: 'explode' } }, pod)).toThrow(/unknown directive/);
  });

  it('$retainKeys clears the keys it does not list (Deployment strategy switch)', () => {
    const obj = { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } } };
    const out = applyStrategicMergePatch(obj, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }, deployment);
    expect(out).toEqual({ spec: { strategy: { type: 'Recreate' } } });
  });

  it('$retainKeys on a volume element switches its source', () => {
    const obj = podWith({ volumes: [{ name: 'v', emptyDir: {} }, { name: 'w', emptyDir: {} }] });
    const out = applyStrategicMergePatch(obj, { spec: { volumes: [{ name: 'v', $retainKeys: ['name', 'hostPath'], hostPath: { path: '/x' } }] } }, pod);
    expect((out['spec'] as JsonObject)['volumes']).toEqual([
      { name: 'v', hostPath: { path: '/x' } },
      { name: 'w', emptyDir: {} },
    ]);
  });

  it('$retainKeys must be a list of strings', () => {
    expect(() => applyStrategicMergePatch({ spec: {} }, { spec: { strategy: { $retainKeys: 'type' } } }, deployment)).toThrow(PatchError);
  });

  it('$setElementOrder orders merge-key lists; server-only elements keep their place among old elements', () => {
    const obj = podWith({ containers: [{ name: 'a' }, { name: 'server-only' }, { name: 'b' }] });
    const out = applyStrategicMergePatch(
      obj,
      { spec: { '$setElementOrder/containers': [{ name: 'c' }, { name: 'b' }, { name: 'a' }], containers: [{ name: 'c' }] } },
      pod,
    );
    // server-only was before b in the old list, so it stays before b.
    expect(((out['spec'] as JsonObject)['containers'] as JsonObject[]).map((c) => c['name'])).toEqual(['c', 'server-only', 'b', 'a']);
    // Reapplying the order the list already has changes nothing.
    const again = applyStrategicMergePatch(out, { spec: { '$setElementOrder/containers': [{ name: 'c' }, { name: 'b' }, { name: 'a' }] } }, pod);
    expect(again).toEqual(out);
  });

  it('$setElementOrder entries need the merge key', () => {
    const obj = podWith({ containers: [{ name: 'a' }] });
    expect(() => applyStrategicMergePatch(obj, { spec: { '$setElementOrder/containers': [{ image: 'x' }] } }, pod)).toThrow(PatchError);
  });

  it('directives inside a new value are applied, not stored', () => {
    const out = applyStrategicMergePatch({}, { spec: { containers: [{ name: 'a', env: [{ name: 'x', $patch: 'delete' }] }], template: { x: null } } }, pod);
    expect(out).toEqual({ spec: { containers: [{ name: 'a', env: [] }], template: {} } });
  });
});

describe('strategic merge: kinds and fields without metadata', () => {
  it('falls back to merge-patch semantics: maps merge, lists are replaced', () => {
    const widget = schemaFor('example.com/v1', 'Widget');
    const obj = { spec: { items: [{ name: 'a' }, { name: 'b' }], config: { x: 1, y: 2 } } };
    const out = applyStrategicMergePatch(obj, { spec: { items: [{ name: 'c' }], config: { y: null, z: 3 } } }, widget);
    expect(out).toEqual({ spec: { items: [{ name: 'c' }], config: { x: 1, z: 3 } } });
  });

  it('still knows ObjectMeta for an unknown kind', () => {
    const widget = schemaFor('example.com/v1', 'Widget');
    expect(applyStrategicMergePatch({ metadata: { finalizers: ['a'] } }, { metadata: { finalizers: ['b'] } }, widget)).toEqual({
      metadata: { finalizers: ['b', 'a'] },
    });
  });

  it('without a schema at all, every list is replaced', () => {
    expect(applyStrategicMergePatch({ spec: { containers: [{ name: 'a' }] } }, { spec: { containers: [{ name: 'b' }] } })).toEqual({
      spec: { containers: [{ name: 'b' }] },
    });
  });
});

describe('createTwoWayMergePatch', () => {
  it('emits merge-key entries, deletions and element order', () => {
    const from = podWith({ containers: [{ name: 'a', image: '1' }, { name: 'b', image: '1' }] });
    const to = podWith({ containers: [{ name: 'b', image: '2' }, { name: 'c', image: '1' }] });
    const patch = createTwoWayMergePatch(from, to, pod);
    expect(patch).toEqual({
      spec: {
        '$setElementOrder/containers': [{ name: 'b' }, { name: 'c' }],
        containers: [{ name: 'b', image: '2' }, { name: 'c', image: '1' }, { name: 'a', $patch: 'delete' }],
      },
    });
    expect(applyStrategicMergePatch(from, patch, pod)).toEqual(to);
  });

  it('emits $deleteFromPrimitiveList for finalizers and $retainKeys for a strategy change', () => {
    const from = { metadata: { finalizers: ['a', 'b'] }, spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } };
    const to = { metadata: { finalizers: ['b', 'c'] }, spec: { strategy: { type: 'Recreate' } } };
    const patch = createTwoWayMergePatch(from, to, deployment);
    expect(patch).toEqual({
      metadata: { finalizers: ['c'], '$deleteFromPrimitiveList/finalizers': ['a'], '$setElementOrder/finalizers': ['b', 'c'] },
      spec: { strategy: { type: 'Recreate', rollingUpdate: null, $retainKeys: ['type'] } },
    });
    expect(applyStrategicMergePatch(from, patch, deployment)).toEqual(to);
  });

  it('is empty for equal objects', () => {
    const obj = podWith({ containers: [{ name: 'a' }] });
    expect(createTwoWayMergePatch(obj, structuredClone(obj), pod)).toEqual({});
  });
});

describe('strategic merge: validation and order-only changes', () => {
  it('a patch key missing from its own $retainKeys is refused', () => {
    expect(() =>
      applyStrategicMergePatch({ spec: { strategy: {} } }, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: {} } } }, deployment),
    ).toThrow(/\$retainKeys/);
  });

  it('list elements may only say $patch: delete or replace', () => {
    expect(() => applyStrategicMergePatch(podWith({ containers: [] }), { spec: { containers: [{ name: 'a', $patch: 'merge' }] } }, pod)).toThrow(PatchError);
  });

  it('a reorder alone is sent as $setElementOrder alone', () => {
    const from = podWith({ containers: [{ name: 'a' }, { name: 'b' }], volumes: [] });
    const to = podWith({ containers: [{ name: 'b' }, { name: 'a' }], volumes: [{ name: 'v' }] });
    const patch = createTwoWayMergePatch(from, to, pod);
    // An empty list is replaced whole by its new contents, with no order directive.
    expect(patch).toEqual({ spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }], volumes: [{ name: 'v' }] } });
    expect(applyStrategicMergePatch(from, patch, pod)).toEqual(to);
  });
});

describe('strategic merge: round trip property', () => {
  // Pod-like objects: keyed lists with unique keys, a primitive merge list, maps, atomic lists.
  const name = fc.constantFrom('a', 'b', 'c', 'd', 'e');
  const unique = <T>(arb: fc.Arbitrary<T>, key: (t: T) => string) => fc.uniqueArray(arb, { selector: key, maxLength: 4 });
  const env = unique(fc.record({ name, value: fc.string({ maxLength: 2 }) }), (e) => e.name);
  const container = fc.record(
    { name, image: fc.constantFrom('x:1', 'x:2'), env, args: fc.array(fc.string({ maxLength: 2 }), { maxLength: 2 }) },
    { requiredKeys: ['name'] },
  );
  const podObject = fc.record(
    {
      metadata: fc.record(
        { labels: fc.dictionary(name, fc.string({ maxLength: 2 }), { maxKeys: 3 }), finalizers: unique(name, (n) => n) },
        { requiredKeys: [] },
      ),
      spec: fc.record({ containers: unique(container, (c) => c.name), nodeName: fc.constantFrom('n1', 'n2') }, { requiredKeys: [] }),
    },
    { requiredKeys: [] },
  ) as fc.Arbitrary<JsonObject>;

  it('applying createTwoWayMergePatch(a, b) to a gives b, order included', () => {
    fc.assert(
      fc.property(podObject, podObject, (a, b) => {
        expect(applyStrategicMergePatch(a, createTwoWayMergePatch(a, b, pod), pod)).toEqual(b);
      }),
      { numRuns: 300 },
    );
  });

  it('a three-way patch from the last applied object brings a live copy of it to the new one', () => {
    fc.assert(
      fc.property(podObject, podObject, (last, next) => {
        expect(applyStrategicMergePatch(last, createThreeWayMergePatch(last, next, last, pod), pod)).toEqual(next);
      }),
      { numRuns: 300 },
    );
  });
});

describe('patch metadata table', () => {
  it('knows every kind Keel serves', () => {
    const kinds = [
      ['v1', ['Namespace', 'Pod', 'Node', 'Service', 'Endpoints', 'ConfigMap', 'Secret', 'ServiceAccount', 'Event']],
      ['apps/v1', ['Deployment', 'ReplicaSet', 'DaemonSet']],
      ['batch/v1', ['Job']],
      ['discovery.k8s.io/v1', ['EndpointSlice']],
      ['coordination.k8s.io/v1', ['Lease']],
      ['rbac.authorization.k8s.io/v1', ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']],
      ['scheduling.k8s.io/v1', ['PriorityClass']],
      ['autoscaling/v1', ['Scale']],
    ] as const;
    for (const [apiVersion, names] of kinds) for (const kind of names) expect(hasSchema(apiVersion, kind), `${apiVersion}/${kind}`).toBe(true);
    expect(hasSchema('example.com/v1', 'Widget')).toBe(false);
  });
});
