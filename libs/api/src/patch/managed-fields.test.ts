// Field sets in Kubernetes' FieldsV1 format: parsing, printing, and the set a value holds.
import { describe, expect, it } from 'vitest';
import { PatchError } from './errors';
import { FieldSet, fieldsOf, formatFieldPath, keyElement, removeAt, valueAt } from './managed-fields';
import type { JsonObject } from './json';
import { schemaFor } from './strategic-metadata';

const deployment = schemaFor('apps/v1', 'Deployment');

describe('FieldSet', () => {
  const fieldsV1 = {
    'f:metadata': { 'f:annotations': { '.': {}, 'f:note': {} }, 'f:finalizers': { 'v:"keel.dev/x"': {} } },
    'f:spec': {
      'f:replicas': {},
      'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } },
    },
  };

  it('parses and prints FieldsV1 unchanged, with "." for members that have children', () => {
    const set = FieldSet.fromFieldsV1(fieldsV1);
    expect(set.toFieldsV1()).toEqual(fieldsV1);
    expect(set.has(['f:metadata', 'f:annotations'])).toBe(true);
    expect(set.has(['f:metadata'])).toBe(false);
    expect(set.has(['f:spec', 'f:replicas'])).toBe(true);
    expect(set.hasAtOrBelow(['f:spec', 'f:template'])).toBe(true);
    expect(set.paths()).toHaveLength(7);
  });

  it('does set algebra', () => {
    const a = FieldSet.fromPaths([['f:a'], ['f:b', 'f:c']]);
    const b = FieldSet.fromPaths([['f:b', 'f:c'], ['f:d']]);
    expect(a.union(b).paths()).toEqual([['f:a'], ['f:b', 'f:c'], ['f:d']]);
    expect(a.difference(b).paths()).toEqual([['f:a']]);
    expect(a.intersection(b).paths()).toEqual([['f:b', 'f:c']]);
    expect(a.equals(FieldSet.fromPaths([['f:b', 'f:c'], ['f:a']]))).toBe(true);
    expect(new FieldSet().isEmpty()).toBe(true);
  });

  it('refuses what is not FieldsV1', () => {
    expect(() => FieldSet.fromFieldsV1([])).toThrow(PatchError);
    expect(() => FieldSet.fromFieldsV1({ 'x:y': {} })).toThrow(PatchError);
  });
});

describe('field paths', () => {
  it('prints paths as Kubernetes does', () => {
    expect(formatFieldPath(['f:spec', 'f:replicas'])).toBe('.spec.replicas');
    expect(formatFieldPath(['f:spec', 'f:containers', 'k:{"name":"web"}', 'f:image'])).toBe('.spec.containers[name="web"].image');
    expect(formatFieldPath(['f:ports', 'k:{"containerPort":80,"protocol":"TCP"}'])).toBe('.ports[containerPort=80,protocol="TCP"]');
    expect(formatFieldPath(['f:metadata', 'f:finalizers', 'v:"a"'])).toBe('.metadata.finalizers[="a"]');
    expect(formatFieldPath(['f:list', 'i:3'])).toBe('.list[3]');
  });

  it('keys list elements by their sorted key fields, filling defaulted keys', () => {
    const ports = schemaFor('v1', 'Pod').fields!['spec']!.fields!['containers']!.list!.items!.fields!['ports']!.list!;
    expect(keyElement({ protocol: 'UDP', containerPort: 53, name: 'dns' }, ports)).toBe('k:{"containerPort":53,"protocol":"UDP"}');
    expect(keyElement({ containerPort: 80 }, ports)).toBe('k:{"containerPort":80,"protocol":"TCP"}');
    expect(keyElement('x', ports)).toBeUndefined();
  });
});

describe('fieldsOf', () => {
  const config = {
    metadata: { labels: { app: 'web' }, finalizers: ['a'] },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { spec: { containers: [{ name: 'web', image: 'w:1', ports: [{ containerPort: 80 }], args: ['x'] }] } },
    },
  };

  it('apply mode: leaves, atomic values and list elements (the selector is atomic)', () => {
    expect(fieldsOf(config, deployment, 'apply').toFieldsV1()).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} }, 'f:finalizers': { 'v:"a"': {} } },
      'f:spec': {
        'f:replicas': {},
        'f:selector': {},
        'f:template': {
          'f:spec': {
            'f:containers': {
              'k:{"name":"web"}': {
                '.': {},
                'f:args': {},
                'f:image': {},
                'f:name': {},
                'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
              },
            },
          },
        },
      },
    });
  });

  it('all mode: maps and lists below the top level are members too', () => {
    const set = fieldsOf(config, deployment, 'all');
    expect(set.has(['f:metadata', 'f:labels'])).toBe(true);
    expect(set.has(['f:metadata', 'f:finalizers'])).toBe(true);
    expect(set.has(['f:spec'])).toBe(false);
  });

  it('without metadata, lists are atomic and maps granular', () => {
    expect(fieldsOf({ spec: { items: [{ a: 1 }], m: { k: 'v' } } }, undefined, 'apply').toFieldsV1()).toEqual({
      'f:spec': { 'f:items': {}, 'f:m': { 'f:k': {} } },
    });
  });
});

describe('valueAt and removeAt', () => {
  const obj = (): JsonObject => ({
    metadata: { labels: { app: 'web' }, finalizers: ['a', 'b'] },
    spec: { template: { spec: { containers: [{ name: 'web', image: 'w' }, { name: 'log' }] } } },
  });
  const containers = ['f:spec', 'f:template', 'f:spec', 'f:containers'];

  it('reads fields, keyed elements and set members', () => {
    expect(valueAt(obj(), [...containers, 'k:{"name":"web"}', 'f:image'], deployment)).toBe('w');
    expect(valueAt(obj(), ['f:metadata', 'f:finalizers', 'v:"b"'], deployment)).toBe('b');
    expect(valueAt(obj(), [...containers, 'k:{"name":"nope"}'], deployment)).toBeUndefined();
  });

  it('removes them, dropping maps the removal left empty below the top level', () => {
    const o = obj();
    removeAt(o, [...containers, 'k:{"name":"log"}'], deployment);
    removeAt(o, ['f:metadata', 'f:finalizers', 'v:"a"'], deployment);
    removeAt(o, ['f:metadata', 'f:labels', 'f:app'], deployment);
    expect(o).toEqual({ metadata: { finalizers: ['b'] }, spec: { template: { spec: { containers: [{ name: 'web', image: 'w' }] } } } });
  });
});
