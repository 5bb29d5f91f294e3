// Client-side `kubectl apply` against our strategic merge: the test plays kubectl (three-way
// patch from the last-applied annotation, the file, and the live object) and the apiserver
// (apply the patch, compare with what is stored). Re-applying an unchanged file must give an
// object deep-equal to the stored one, so the apiserver can answer "unchanged" without a write.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deepClone, deepEqual, type JsonObject } from './json';
import { applyStrategicMergePatch, createThreeWayMergePatch } from './strategic';
import { schemaFor } from './strategic-metadata';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const schema = schemaFor('apps/v1', 'Deployment');

/** What kubectl sends as `modified`: the file with the last-applied annotation set to the file. */
function withLastApplied(file: JsonObject): JsonObject {
  const modified = deepClone(file);
  const meta = (modified['metadata'] ?? {}) as JsonObject;
  const annotations = { ...((meta['annotations'] as JsonObject | undefined) ?? {}) };
  annotations[LAST_APPLIED] = JSON.stringify(file) + '\n';
  modified['metadata'] = { ...meta, annotations };
  return modified;
}

/** The patch kubectl computes for `file` against the live object. */
function kubectlPatch(file: JsonObject, live: JsonObject): JsonObject {
  const annotations = ((live['metadata'] as JsonObject)['annotations'] ?? {}) as JsonObject;
  const lastApplied = annotations[LAST_APPLIED];
  const original = typeof lastApplied === 'string' ? (JSON.parse(lastApplied) as JsonObject) : undefined;
  return createThreeWayMergePatch(original, withLastApplied(file), live, schema);
}

/** The server side of create: defaults and bookkeeping, as the apiserver would add them. */
function created(file: JsonObject): JsonObject {
  const obj = withLastApplied(file);
  const meta = obj['metadata'] as JsonObject;
  Object.assign(meta, { uid: 'u-1', resourceVersion: '10', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' });
  const spec = obj['spec'] as JsonObject;
  spec['strategy'] ??= { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
  spec['revisionHistoryLimit'] ??= 10;
  const podSpec = (spec['template'] as JsonObject)['spec'] as JsonObject;
  podSpec['restartPolicy'] ??= 'Always';
  for (const c of podSpec['containers'] as JsonObject[]) defaultContainer(c);
  obj['status'] = { replicas: 2, conditions: [{ type: 'Available', status: 'True' }] };
  return obj;
}

function defaultContainer(c: JsonObject): void {
  c['imagePullPolicy'] ??= 'IfNotPresent';
  c['terminationMessagePath'] ??= '/dev/termination-log';
  for (const p of (c['ports'] as JsonObject[] | undefined) ?? []) p['protocol'] ??= 'TCP';
}

/** What the apiserver does with a PATCH: apply, then default what the patch added. */
function serverPatch(live: JsonObject, patch: JsonObject): JsonObject {
  const out = applyStrategicMergePatch(live, patch, schema);
  const podSpec = ((out['spec'] as JsonObject)['template'] as JsonObject)['spec'] as JsonObject;
  for (const c of podSpec['containers'] as JsonObject[]) defaultContainer(c);
  return out;
}

const file: JsonObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          { name: 'web', image: 'keel/web:1', ports: [{ containerPort: 80 }], env: [{ name: 'MODE', value: 'prod' }] },
          { name: 'log', image: 'keel/busybox:1', args: ['tail', '-f', '/var/log/app'] },
        ],
      },
    },
  },
};

function containersOf(obj: JsonObject): JsonObject[] {
  return (((obj['spec'] as JsonObject)['template'] as JsonObject)['spec'] as JsonObject)['containers'] as JsonObject[];
}

function withContainers(base: JsonObject, containers: JsonObject[]): JsonObject {
  const out = deepClone(base);
  (((out['spec'] as JsonObject)['template'] as JsonObject)['spec'] as JsonObject)['containers'] = containers;
  return out;
}

describe('kubectl apply (client-side) against strategic merge', () => {
  it('re-applying an unchanged file sends {} and leaves the stored object deep-equal', () => {
    const live = created(file);
    const patch = kubectlPatch(file, live);
    expect(patch).toEqual({});
    expect(deepEqual(serverPatch(live, patch), live)).toBe(true);
  });

  it('an image bump sends what the wire shows, keeps defaults, and a second apply is unchanged', () => {
    const live = created(file);
    const bumped = withContainers(file, [{ ...containersOf(file)[0]!, image: 'keel/web:2' }, containersOf(file)[1]!]);
    const patch = kubectlPatch(bumped, live);
    const spec = patch['spec'] as JsonObject;
    expect(spec).toEqual({
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'web' }, { name: 'log' }],
          containers: [{ image: 'keel/web:2', name: 'web' }],
        },
      },
    });
    expect(Object.keys(patch['metadata'] as JsonObject)).toEqual(['annotations']);

    const after = serverPatch(live, patch);
    expect(containersOf(after)[0]).toEqual({
      name: 'web',
      image: 'keel/web:2',
      ports: [{ containerPort: 80, protocol: 'TCP' }],
      env: [{ name: 'MODE', value: 'prod' }],
      imagePullPolicy: 'IfNotPresent',
      terminationMessagePath: '/dev/termination-log',
    });
    expect(after['status']).toEqual(live['status']);
    expect((after['spec'] as JsonObject)['strategy']).toEqual((live['spec'] as JsonObject)['strategy']);

    const again = kubectlPatch(bumped, after);
    expect(again).toEqual({});
    expect(deepEqual(serverPatch(after, again), after)).toBe(true);
  });

  it('adding a container appends it in file order, and re-applying is unchanged', () => {
    const live = created(file);
    const more = withContainers(file, [containersOf(file)[0]!, { name: 'metrics', image: 'keel/busybox:1' }, containersOf(file)[1]!]);
    const patch = kubectlPatch(more, live);
    const podPatch = ((patch['spec'] as JsonObject)['template'] as JsonObject)['spec'] as JsonObject;
    expect(podPatch['$setElementOrder/containers']).toEqual([{ name: 'web' }, { name: 'metrics' }, { name: 'log' }]);
    expect(podPatch['containers']).toEqual([{ name: 'metrics', image: 'keel/busybox:1' }]);

    const after = serverPatch(live, patch);
    expect(containersOf(after).map((c) => c['name'])).toEqual(['web', 'metrics', 'log']);
    expect(deepEqual(serverPatch(after, kubectlPatch(more, after)), after)).toBe(true);
  });

  it('removing a container sends $setElementOrder and $patch: delete, and keeps the others whole', () => {
    const live = created(file);
    const fewer = withContainers(file, [containersOf(file)[0]!]);
    const patch = kubectlPatch(fewer, live);
    const podPatch = ((patch['spec'] as JsonObject)['template'] as JsonObject)['spec'] as JsonObject;
    expect(podPatch).toEqual({
      '$setElementOrder/containers': [{ name: 'web' }],
      containers: [{ name: 'log', $patch: 'delete' }],
    });
    const after = serverPatch(live, patch);
    expect(containersOf(after)).toEqual([containersOf(live)[0]]);
    expect(deepEqual(serverPatch(after, kubectlPatch(fewer, after)), after)).toBe(true);
  });

  it('fields dropped from the file are deleted; fields only the server set survive', () => {
    const live = created(file);
    // A controller added a label and an annotation kubectl never applied.
    ((live['metadata'] as JsonObject)['labels'] as JsonObject)['owner'] = 'controller';
    const dropped = deepClone(file);
    // kubectl deletes only what it applied: dropping one label leaves the controller's.
    // (Dropping the whole `labels` key would send `labels: null`, as kubectl does.)
    (dropped['metadata'] as JsonObject)['labels'] = { tier: 'fe' };
    const firstEnvless = { ...containersOf(file)[0]! };
    delete firstEnvless['env'];
    const final = withContainers(dropped, [firstEnvless, containersOf(file)[1]!]);
    const patch = kubectlPatch(final, live);
    const after = serverPatch(live, patch);
    expect((patch['metadata'] as JsonObject)['labels']).toEqual({ app: null, tier: 'fe' });
    expect((after['metadata'] as JsonObject)['labels']).toEqual({ owner: 'controller', tier: 'fe' });
    expect(containersOf(after)[0]!['env']).toBeUndefined();
    expect(containersOf(after)[0]!['imagePullPolicy']).toBe('IfNotPresent');
    expect(deepEqual(serverPatch(after, kubectlPatch(final, after)), after)).toBe(true);
  });

  it('switching the strategy to Recreate clears the defaulted rollingUpdate through $retainKeys', () => {
    const live = created(file);
    const recreate = deepClone(file);
    (recreate['spec'] as JsonObject)['strategy'] = { type: 'Recreate' };
    const patch = kubectlPatch(recreate, live);
    expect((patch['spec'] as JsonObject)['strategy']).toEqual({ $retainKeys: ['type'], type: 'Recreate' });
    const after = serverPatch(live, patch);
    expect((after['spec'] as JsonObject)['strategy']).toEqual({ type: 'Recreate' });
    expect(deepEqual(serverPatch(after, kubectlPatch(recreate, after)), after)).toBe(true);
  });

  it('an atomic list (args) changed in the file is sent whole', () => {
    const live = created(file);
    const changed = withContainers(file, [containersOf(file)[0]!, { ...containersOf(file)[1]!, args: ['sleep', '1'] }]);
    const patch = kubectlPatch(changed, live);
    const podPatch = ((patch['spec'] as JsonObject)['template'] as JsonObject)['spec'] as JsonObject;
    expect(podPatch['containers']).toEqual([{ name: 'log', args: ['sleep', '1'] }]);
    expect(containersOf(serverPatch(live, patch))[1]!['args']).toEqual(['sleep', '1']);
  });
});

describe('kubectl apply property: an unchanged file never changes the stored object', () => {
  const name = fc.constantFrom<string>('a', 'b', 'c', 'd');
  const env = fc.uniqueArray(fc.record({ name, value: fc.constantFrom('1', '2') }), { selector: (e) => e.name, maxLength: 3 });
  const container = fc.record({ name, image: fc.constantFrom('x:1', 'x:2'), env, args: fc.array(fc.constantFrom('-v', '-q'), { maxLength: 2 }) }, { requiredKeys: ['name', 'image'] });
  const files = fc.record({
    labels: fc.dictionary(name, fc.constantFrom('1', '2'), { maxKeys: 3 }),
    finalizers: fc.uniqueArray(name, { maxLength: 2 }),
    replicas: fc.integer({ min: 0, max: 3 }),
    containers: fc.uniqueArray(container, { selector: (c) => c.name, minLength: 1, maxLength: 3 }),
  });
  // What others may have done to the stored object since: labels, finalizers, a sidecar.
  const serverSide = fc.record({ label: fc.boolean(), finalizer: fc.boolean(), sidecar: fc.boolean() });

  it('holds for random files and random server-side additions', () => {
    fc.assert(
      fc.property(files, serverSide, ({ labels, finalizers, replicas, containers }, extra) => {
        const f: JsonObject = {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'web', labels, finalizers },
          spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers } } },
        };
        const live = created(f);
        const meta = live['metadata'] as JsonObject;
        if (extra.label) meta['labels'] = { ...(meta['labels'] as JsonObject), 'keel.dev/owner': 'controller' };
        if (extra.finalizer) meta['finalizers'] = ['keel.dev/protect', ...(meta['finalizers'] as string[])];
        if (extra.sidecar) containersOf(live).splice(1, 0, { name: 'zz-sidecar', image: 'side:1', imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log' });
        const patch = kubectlPatch(f, live);
        expect(serverPatch(live, patch)).toEqual(live);
      }),
      { numRuns: 300 },
    );
  });
});
