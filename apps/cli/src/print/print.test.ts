import { describe, expect, it } from 'vitest';
import { describeObject, shortDuration } from './describe';
import { asList, objectName, toJson, toYaml } from './objects';
import { printTable, type Table } from './table';

const table: Table = {
  kind: 'Table',
  columnDefinitions: [
    { name: 'Name', type: 'string', format: 'name' },
    { name: 'Ready', type: 'string' },
    { name: 'IP', type: 'string', priority: 1 },
  ],
  rows: [
    { cells: ['web-1', '1/1', '10.244.0.5'], object: { metadata: { name: 'web-1', namespace: 'demo', labels: { app: 'web' } } } },
    { cells: ['a-much-longer-name', '0/1', null], object: { metadata: { name: 'a-much-longer-name', namespace: 'kube-system' } } },
  ],
};

describe('tables', () => {
  it('pads columns as kubectl does and hides priority columns unless wide', () => {
    expect(printTable(table, {})).toBe(['NAME                 READY', 'web-1                1/1', 'a-much-longer-name   0/1'].join('\n'));
    expect(printTable(table, { wide: true }).split('\n')[2]).toBe('a-much-longer-name   0/1     <none>');
  });

  it('adds NAMESPACE with -A, kind prefixes for several types, LABELS, and drops headers', () => {
    const text = printTable(table, { allNamespaces: true, kindPrefix: 'pod', showLabels: true, noHeaders: true });
    expect(text.split('\n')).toEqual(['demo          pod/web-1                1/1   app=web', 'kube-system   pod/a-much-longer-name   0/1   <none>']);
  });
});

describe('objects', () => {
  const pod = { metadata: { name: 'web', namespace: 'demo' }, kind: 'Pod', apiVersion: 'v1', spec: { containers: [{ name: 'c', image: 'i' }] } };

  it('prints YAML and JSON with sorted keys, lists as kind List', () => {
    expect(toYaml(pod)).toBe('apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: demo\nspec:\n  containers:\n  - image: i\n    name: c\n');
    expect(toJson({ b: 1, a: [1] })).toBe('{\n    "a": [\n        1\n    ],\n    "b": 1\n}\n');
    expect(toYaml({ labels: { on: 'yes' }, created: '2026-01-01T00:00:00Z' })).toBe('created: "2026-01-01T00:00:00Z"\nlabels:\n  "on": "yes"\n');
    expect(asList([pod])).toMatchObject({ kind: 'List', apiVersion: 'v1', items: [pod] });
  });

  it('names objects as kind.group/name', () => {
    expect(objectName(pod)).toBe('pod/web');
    expect(objectName({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'w' } })).toBe('deployment.apps/w');
  });
});

describe('describe', () => {
  it('uses short durations', () => {
    expect(shortDuration(5_000)).toBe('5s');
    expect(shortDuration(200_000)).toBe('3m20s');
    expect(shortDuration(3 * 3600_000)).toBe('3h');
    expect(shortDuration(50 * 3600_000)).toBe('2d2h');
  });

  it('summarises the object with labels as written and events oldest first', () => {
    const now = new Date('2026-01-01T00:01:00Z');
    const text = describeObject(
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'demo', labels: { app: 'web' } }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } } } },
      [
        { type: 'Normal', reason: 'Second', message: 'b', lastTimestamp: '2026-01-01T00:00:50Z', source: { component: 'c' } },
        { type: 'Warning', reason: 'First', message: 'a', count: 3, firstTimestamp: '2026-01-01T00:00:00Z', lastTimestamp: '2026-01-01T00:00:30Z', source: { component: 'c' } },
      ],
      now,
    );
    expect(text).toContain('Name:         web');
    expect(text).toContain('Labels:       app=web');
    expect(text).toContain('  Replicas:  2');
    expect(text).toContain('      app:  web');
    const events = text.slice(text.indexOf('Events:'));
    expect(events.indexOf('First')).toBeLessThan(events.indexOf('Second'));
    expect(events).toContain('30s (x3 over 60s)');
    expect(describeObject({ metadata: { name: 'x' } }, [], now)).toContain('Events:  <none>');
  });
});
