// Server-side apply: ownership per manager, conflicts, force, removal of fields an applier
// stopped applying, Update bookkeeping, and the unchanged case (no timestamp churn).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conflictCauses, readManagedFields, recordUpdate, serverSideApply, type ApplyRequest, type ApplyResult } from './apply';
import { PatchError } from './errors';
import { deepClone, type JsonObject } from './json';
import { schemaFor } from './strategic-metadata';

const schema = schemaFor('apps/v1', 'Deployment');
const T1 = '2026-01-01T00:00:00Z';
const T2 = '2026-01-02T00:00:00Z';
const T3 = '2026-01-03T00:00:00Z';

function config(overrides: { replicas?: number; containers?: JsonObject[]; labels?: JsonObject } = {}): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: overrides.labels ?? { app: 'web' } },
    spec: {
      ...(overrides.replicas !== undefined ? { replicas: overrides.replicas } : {}),
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: overrides.containers ?? [{ name: 'web', image: 'keel/web:1', ports: [{ containerPort: 80 }] }] },
      },
    },
  };
}

function apply(live: JsonObject | undefined, applied: JsonObject, manager = 'kubectl', extra: Partial<ApplyRequest> = {}): ApplyResult {
  return serverSideApply({ live, applied, manager, apiVersion: 'apps/v1', time: T1, schema, ...extra });
}

function ok(result: ApplyResult): JsonObject {
  if (!result.ok) throw new Error(result.message);
  return result.object;
}

/** The apiserver stores objects with server fields and defaults; this plays that part. */
function store(obj: JsonObject, rv: string): JsonObject {
  const out = deepClone(obj);
  const meta = out['metadata'] as JsonObject;
  meta['uid'] ??= 'u-1';
  meta['resourceVersion'] = rv;
  const podSpec = ((out['spec'] as JsonObject)['template'] as JsonObject)['spec'] as JsonObject;
  for (const c of podSpec['containers'] as JsonObject[]) {
    c['imagePullPolicy'] ??= 'IfNotPresent';
    for (const p of (c['ports'] as JsonObject[] | undefined) ?? []) p['protocol'] ??= 'TCP';
  }
  return out;
}

const spec = (o: JsonObject) => o['spec'] as JsonObject;
const containers = (o: JsonObject) => ((spec(o)['template'] as JsonObject)['spec'] as JsonObject)['containers'] as JsonObject[];
const managers = (o: JsonObject) => readManagedFields(o).map((e) => `${e.manager}/${e.operation}`);

describe('server-side apply', () => {
  it('creates: the object is the configuration plus an Apply entry in FieldsV1', () => {
    const obj = ok(apply(undefined, config({ replicas: 2 })));
    expect(obj['kind']).toBe('Deployment');
    expect((obj['metadata'] as JsonObject)['name']).toBe('web');
    expect(spec(obj)['replicas']).toBe(2);
    expect(readManagedFields(obj)).toEqual([
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: T1,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"web"}': {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
                  },
                },
              },
            },
          },
        },
      },
    ]);
  });

  it('re-applying the same configuration changes nothing, not even the timestamp', () => {
    const live = store(ok(apply(undefined, config({ replicas: 2 }))), '5');
    const again = apply(live, config({ replicas: 2 }), 'kubectl', { time: T2 });
    expect(again.ok && again.changed).toBe(false);
    expect(ok(again)).toEqual(live);
  });

  it('keeps server-set fields and defaults it does not own; matches ports by their defaulted protocol', () => {
    const live = store(ok(apply(undefined, config({ replicas: 2 }))), '5');
    const next = ok(apply(live, config({ replicas: 3 }), 'kubectl', { time: T2 }));
    expect(spec(next)['replicas']).toBe(3);
    expect(containers(next)).toEqual([
      { name: 'web', image: 'keel/web:1', ports: [{ containerPort: 80, protocol: 'TCP' }], imagePullPolicy: 'IfNotPresent' },
    ]);
    expect((next['metadata'] as JsonObject)['uid']).toBe('u-1');
    expect(readManagedFields(next)[0]!.time).toBe(T2);
  });

  it('two appliers of the same value share the field; a different value conflicts', () => {
    const live = store(ok(apply(undefined, config({ replicas: 2 }))), '5');
    const shared = ok(apply(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 2 } }, 'ops'));
    expect(managers(shared)).toEqual(['kubectl/Apply', 'ops/Apply']);

    const conflict = apply(store(shared, '6'), { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 5 } }, 'hpa');
    expect(conflict.ok).toBe(false);
    if (conflict.ok) return;
    expect(conflict.conflicts.map((c) => `${c.manager} ${c.field}`)).toEqual(['kubectl .spec.replicas', 'ops .spec.replicas']);
    expect(conflict.message).toBe('Apply failed with 2 conflicts: conflicts with "kubectl":\n- .spec.replicas\nconflicts with "ops":\n- .spec.replicas');
  });

  it('force takes the field from its owners', () => {
    const live = store(ok(apply(undefined, config({ replicas: 2 }))), '5');
    const forced = ok(apply(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 5 } }, 'hpa', { force: true }));
    expect(spec(forced)['replicas']).toBe(5);
    const entries = readManagedFields(forced);
    expect(entries.map((e) => e.manager)).toEqual(['kubectl', 'hpa']);
    expect((entries[0]!.fieldsV1['f:spec'] as JsonObject)['f:replicas']).toBeUndefined();
    expect(entries[1]!.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    // kubectl applying its old value now conflicts with hpa.
    const back = apply(store(forced, '6'), config({ replicas: 2 }));
    expect(!back.ok && back.conflicts.map((c) => `${c.manager} ${c.field}`)).toEqual(['hpa .spec.replicas']);
    // And kubectl omitting replicas leaves hpa's value alone.
    const omitted = ok(apply(store(forced, '6'), config()));
    expect(spec(omitted)['replicas']).toBe(5);
  });

  it('a field the applier stops applying is removed, unless another manager owns it', () => {
    const live = store(ok(apply(undefined, config({ replicas: 2, labels: { app: 'web', tier: 'fe' } }))), '5');
    const dropped = ok(apply(live, config({ labels: { app: 'web' } })));
    expect(spec(dropped)['replicas']).toBeUndefined();
    expect((dropped['metadata'] as JsonObject)['labels']).toEqual({ app: 'web' });

    const shared = ok(apply(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { tier: 'fe' } } }, 'ops'));
    const kept = ok(apply(store(shared, '6'), config({ labels: { app: 'web' } })));
    expect((kept['metadata'] as JsonObject)['labels']).toEqual({ app: 'web', tier: 'fe' });
    expect(managers(kept)).toEqual(['kubectl/Apply', 'ops/Apply']);
  });

  it('a container removed from the configuration goes, with the defaults it had', () => {
    const two = [
      { name: 'web', image: 'keel/web:1' },
      { name: 'log', image: 'keel/busybox:1' },
    ];
    const live = store(ok(apply(undefined, config({ containers: two }))), '5');
    expect(containers(live)[1]!['imagePullPolicy']).toBe('IfNotPresent');
    const next = ok(apply(live, config({ containers: [two[0]!] })));
    expect(containers(next).map((c) => c['name'])).toEqual(['web']);
    const fields = JSON.stringify(readManagedFields(next)[0]!.fieldsV1);
    expect(fields).not.toContain('log');
  });

  it('an atomic list is owned whole: changing it conflicts with its owner', () => {
    const withArgs = [{ name: 'web', image: 'keel/web:1', args: ['a'] }];
    const live = store(ok(apply(undefined, config({ containers: withArgs }))), '5');
    const other = apply(
      live,
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { template: { spec: { containers: [{ name: 'web', args: ['b'] }] } } } },
      'ops',
    );
    expect(!other.ok && other.conflicts.map((c) => c.field)).toEqual(['.spec.template.spec.containers[name="web"].args']);
  });

  it('set lists (finalizers) are owned per value', () => {
    const mk = (finalizers: string[]) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', finalizers } });
    const a = ok(apply(undefined, mk(['keel.dev/a']), 'a'));
    const ab = ok(apply(store({ ...a, spec: { template: { spec: { containers: [] } } } }, '2'), mk(['keel.dev/b']), 'b'));
    expect((ab['metadata'] as JsonObject)['finalizers']).toEqual(['keel.dev/a', 'keel.dev/b']);
    const bOnly = ok(apply(store(ab, '3'), mk([]), 'a'));
    expect((bOnly['metadata'] as JsonObject)['finalizers']).toEqual(['keel.dev/b']);
  });

  it('ignores status on the main resource, and all but status on the status subresource', () => {
    const live = store(ok(apply(undefined, config({ replicas: 1 }))), '5');
    live['status'] = { replicas: 1 };
    const main = ok(apply(live, { ...config({ replicas: 1 }), status: { replicas: 9 } }));
    expect(main['status']).toEqual({ replicas: 1 });
    const status = ok(apply(live, { ...config({ replicas: 7 }), status: { replicas: 9 } }, 'controller', { subresource: 'status' }));
    expect(status['status']).toEqual({ replicas: 9 });
    expect(spec(status)['replicas']).toBe(1);
    expect(readManagedFields(status).find((e) => e.manager === 'controller')).toMatchObject({ subresource: 'status', fieldsV1: { 'f:status': { 'f:replicas': {} } } });
  });

  it('nulls in the configuration mean "not set"', () => {
    const obj = ok(apply(undefined, { ...config(), spec: { ...spec(config()), replicas: null } }));
    expect(spec(obj)).not.toHaveProperty('replicas');
  });

  it('an applied configuration may not carry managedFields', () => {
    const withFields = config();
    (withFields['metadata'] as JsonObject)['managedFields'] = [{ manager: 'me', operation: 'Apply' }];
    expect(() => apply(undefined, withFields)).toThrow(/managedFields must be nil/);
  });

  it('a malformed managedFields is a PatchError', () => {
    const live = store(ok(apply(undefined, config())), '5');
    (live['metadata'] as JsonObject)['managedFields'] = [{ manager: 'x', operation: 'Sideways' }];
    expect(() => apply(live, config())).toThrow(PatchError);
  });
});

describe('updates and apply together', () => {
  function clientSideCreate(): JsonObject {
    // kubectl apply (client-side) creates with fieldManager=kubectl-client-side-apply.
    return store(recordUpdate({ old: undefined, updated: config({ replicas: 2 }), manager: 'kubectl-client-side-apply', apiVersion: 'apps/v1', time: T1, schema }), '5');
  }

  it('an Update entry owns what the write created, maps marked with "."', () => {
    const live = clientSideCreate();
    const [entry] = readManagedFields(live);
    expect(entry).toMatchObject({ manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'apps/v1', time: T1 });
    expect((entry!.fieldsV1['f:metadata'] as JsonObject)['f:labels']).toEqual({ '.': {}, 'f:app': {} });
    expect((entry!.fieldsV1['f:spec'] as JsonObject)['f:replicas']).toEqual({});
  });

  it('server-side apply over a client-side-applied object conflicts as kubectl shows it', () => {
    const result = apply(clientSideCreate(), config({ replicas: 3 }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
    expect(conflictCauses(result.conflicts)).toEqual([
      { reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' },
    ]);
    // Applying the same values is fine: ownership is shared.
    const same = ok(apply(clientSideCreate(), config({ replicas: 2 })));
    expect(managers(same)).toEqual(['kubectl-client-side-apply/Update', 'kubectl/Apply']);
  });

  it('an update takes the fields it changes from other managers, without conflict', () => {
    const applied = store(ok(apply(undefined, config({ replicas: 2 }))), '5');
    const scaled = deepClone(applied);
    spec(scaled)['replicas'] = 4;
    const after = recordUpdate({ old: applied, updated: scaled, manager: 'kubectl-scale', apiVersion: 'apps/v1', time: T2, schema });
    const entries = readManagedFields(after);
    expect(entries.map((e) => `${e.manager}/${e.operation}`)).toEqual(['kubectl/Apply', 'kubectl-scale/Update']);
    expect((entries[0]!.fieldsV1['f:spec'] as JsonObject)['f:replicas']).toBeUndefined();
    expect(entries[1]!.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect(entries[1]!.time).toBe(T2);
  });

  it('an update that removes a field removes it from every owner; a no-op update changes nothing', () => {
    const applied = store(ok(apply(undefined, config({ replicas: 2 }))), '5');
    const removed = deepClone(applied);
    delete spec(removed)['replicas'];
    const after = recordUpdate({ old: applied, updated: removed, manager: 'editor', apiVersion: 'apps/v1', time: T2, schema });
    expect(JSON.stringify(readManagedFields(after))).not.toContain('replicas');
    expect(managers(after)).toEqual(['kubectl/Apply']);

    const noop = recordUpdate({ old: applied, updated: deepClone(applied), manager: 'editor', apiVersion: 'apps/v1', time: T3, schema });
    expect(noop).toEqual(applied);
  });

  it('updaters writing with different versions are different managers', () => {
    const live = clientSideCreate();
    const changed = deepClone(live);
    (changed['metadata'] as JsonObject)['labels'] = { app: 'web', x: 'y' };
    const after = recordUpdate({ old: live, updated: changed, manager: 'kubectl-client-side-apply', apiVersion: 'apps/v1beta2', time: T2, schema });
    expect(readManagedFields(after).map((e) => e.apiVersion)).toEqual(['apps/v1', 'apps/v1beta2']);
  });
});

describe('list order after apply', () => {
  const withFinalizers = (finalizers: string[]): JsonObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', finalizers } });

  it('shared elements follow the applied order; new ones sit where applied; live-only ones keep their place', () => {
    const live = withFinalizers(['a', 'x', 'b']);
    const out = ok(apply(live, withFinalizers(['b', 'c', 'a'])));
    expect((out['metadata'] as JsonObject)['finalizers']).toEqual(['x', 'b', 'c', 'a']);
  });

  it('property: every element appears once, applied and live-only relative orders are kept', () => {
    const names = fc.uniqueArray(fc.constantFrom<string>('a', 'b', 'c', 'd', 'e', 'f'), { maxLength: 6 });
    fc.assert(
      fc.property(names, names, (live, applied) => {
        const out = (ok(apply(withFinalizers(live), withFinalizers(applied)))['metadata'] as JsonObject)['finalizers'] as string[];
        expect([...out].sort()).toEqual([...new Set([...live, ...applied])].sort());
        expect(out.filter((f) => applied.includes(f))).toEqual(applied);
        const liveOnly = live.filter((f) => !applied.includes(f));
        expect(out.filter((f) => liveOnly.includes(f))).toEqual(liveOnly);
      }),
      { numRuns: 300 },
    );
  });
});

describe('objects without tracking, and writers that send managedFields', () => {
  const untracked = (): JsonObject => store(config({ replicas: 2 }), '3');

  it('an object nobody tracked belongs to before-first-apply: a changed value conflicts, the same one does not', () => {
    const result = apply(untracked(), config({ replicas: 3 }));
    expect(!result.ok && result.message).toBe('Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas');
    const same = ok(apply(untracked(), config({ replicas: 2 })));
    expect(managers(same)).toEqual(['before-first-apply/Update', 'kubectl/Apply']);
  });

  it('an apply that owns no field (only a name) is still recorded, so repeating it is a no-op', () => {
    const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'keel-ns' } };
    const req = { manager: 'kubectl', apiVersion: 'v1', time: T1 };
    const created = serverSideApply({ ...req, live: undefined, applied: namespace });
    expect(created.ok && created.changed).toBe(true);
    const createdObj = ok(created);
    expect(readManagedFields(createdObj)).toEqual([{ manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', time: T1, fieldsType: 'FieldsV1', fieldsV1: {} }]);
    // As stored: the server added a field (spec.finalizers) nobody applied.
    const live = { ...createdObj, metadata: { ...(createdObj['metadata'] as JsonObject), uid: 'u-1', resourceVersion: '7' }, spec: { finalizers: ['kubernetes'] } };
    const again = serverSideApply({ ...req, time: T2, live, applied: namespace });
    expect(again.ok && again.changed).toBe(false);
    expect(managers(ok(again))).toEqual(['kubectl/Apply']);
    // An update that takes fields still drops the empty entry, as Kubernetes drops empty managers.
    const labelled = recordUpdate({ old: live, updated: { ...live, metadata: { ...(live['metadata'] as JsonObject), labels: { a: 'b' } } }, manager: 'kubectl-label', apiVersion: 'v1', time: T3 });
    expect(managers(labelled)).toEqual(['kubectl-label/Update']);
  });

  it('an update sending managedFields [{}] strips them all', () => {
    const live = store(ok(apply(undefined, config({ replicas: 2 }))), '5');
    const sent = deepClone(live);
    (sent['metadata'] as JsonObject)['managedFields'] = [{}];
    const out = recordUpdate({ old: live, updated: sent, manager: 'editor', apiVersion: 'apps/v1', time: T2, schema });
    expect((out['metadata'] as JsonObject)['managedFields']).toBeUndefined();
  });

  it('an update sending [] or no managedFields keeps the stored ones', () => {
    const live = store(ok(apply(undefined, config({ replicas: 2 }))), '5');
    for (const value of [[], undefined]) {
      const sent = deepClone(live);
      if (value === undefined) delete (sent['metadata'] as JsonObject)['managedFields'];
      else (sent['metadata'] as JsonObject)['managedFields'] = value;
      const out = recordUpdate({ old: live, updated: sent, manager: 'editor', apiVersion: 'apps/v1', time: T2, schema });
      expect(out).toEqual(live);
    }
  });

  it('an update sending other managedFields starts from them', () => {
    const live = store(ok(apply(undefined, config({ replicas: 2 }))), '5');
    const sent = deepClone(live);
    (sent['metadata'] as JsonObject)['managedFields'] = [
      { manager: 'importer', operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } },
    ];
    const out = recordUpdate({ old: live, updated: sent, manager: 'editor', apiVersion: 'apps/v1', time: T2, schema });
    expect(managers(out)).toEqual(['importer/Update']);
  });
});

describe('applied configurations that cannot be tracked', () => {
  it('refuses a keyed element without its key, and duplicate elements', () => {
    const noName = config({ containers: [{ image: 'x' }] });
    expect(() => apply(undefined, noName)).toThrow(/spec\.template\.spec\.containers\[0\].*"name"/);
    const twice = config({ containers: [{ name: 'a' }, { name: 'a', image: 'x' }] });
    expect(() => apply(undefined, twice)).toThrow(/duplicate entry \{"name":"a"\}/);
    const finalizers = { ...config(), metadata: { name: 'web', finalizers: ['x', 'x'] } };
    expect(() => apply(undefined, finalizers)).toThrow(PatchError);
  });

  it('lets a defaulted key field be left out (a port without protocol)', () => {
    expect(ok(apply(undefined, config({ containers: [{ name: 'a', ports: [{ containerPort: 80 }, { containerPort: 80, protocol: 'UDP' }] }] })))).toBeTruthy();
  });
});

describe('apply properties', () => {
  const name = fc.constantFrom<string>('a', 'b', 'c', 'd');
  const env = fc.uniqueArray(fc.record({ name, value: fc.constantFrom('1', '2') }), { selector: (e) => e.name, maxLength: 3 });
  const container = fc.record(
    { name, image: fc.constantFrom('x:1', 'x:2'), env, args: fc.array(fc.constantFrom('-v', '-q'), { maxLength: 2 }) },
    { requiredKeys: ['name'] },
  );
  const configs = fc
    .record(
      {
        labels: fc.dictionary(name, fc.constantFrom('1', '2'), { maxKeys: 3 }),
        finalizers: fc.uniqueArray(name, { maxLength: 3 }),
        replicas: fc.integer({ min: 0, max: 3 }),
        containers: fc.uniqueArray(container, { selector: (c) => c.name, maxLength: 3 }),
      },
      { requiredKeys: [] },
    )
    .map(({ labels, finalizers, replicas, containers }) => {
      const metadata: JsonObject = { name: 'web' };
      if (labels) metadata['labels'] = labels;
      if (finalizers) metadata['finalizers'] = finalizers;
      const spec: JsonObject = {};
      if (replicas !== undefined) spec['replicas'] = replicas;
      if (containers) spec['template'] = { spec: { containers } };
      return { apiVersion: 'apps/v1', kind: 'Deployment', metadata, spec } as JsonObject;
    });
  const withoutManagedFields = (o: JsonObject) => {
    const c = deepClone(o);
    delete (c['metadata'] as JsonObject)['managedFields'];
    return c;
  };

  it('a sole applier gets exactly its configuration, and re-applying it changes nothing', () => {
    fc.assert(
      fc.property(configs, configs, (first, second) => {
        const live = ok(apply(undefined, first));
        const next = apply(live, second, 'kubectl', { time: T2 });
        expect(withoutManagedFields(ok(next))).toEqual(second);
        const again = apply(ok(next), second, 'kubectl', { time: T3 });
        expect(again.ok && again.changed).toBe(false);
        expect(ok(again)).toEqual(ok(next));
      }),
      { numRuns: 300 },
    );
  });
});
