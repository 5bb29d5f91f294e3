import { describe, expect, it } from 'vitest';
import { jsonpath, JsonPathError } from './jsonpath';

const list = {
  kind: 'List',
  items: [
    { metadata: { name: 'a', labels: { 'app.kubernetes.io/name': 'x' } }, spec: { replicas: 2, containers: [{ name: 'c1', image: 'i1' }, { name: 'c2', image: 'i2' }] }, status: { phase: 'Running' } },
    { metadata: { name: 'b' }, spec: { replicas: 0, containers: [{ name: 'c3', image: 'i3' }] }, status: { phase: 'Pending' } },
  ],
};

describe('jsonpath', () => {
  it('reads fields, indexes (negative too), slices and wildcards', () => {
    expect(jsonpath('{.items[0].metadata.name}', list)).toBe('a');
    expect(jsonpath('{.items[-1].metadata.name}', list)).toBe('b');
    expect(jsonpath('{.items[*].metadata.name}', list)).toBe('a b');
    expect(jsonpath('{.items[0:1].metadata.name}', list)).toBe('a');
    expect(jsonpath('{.items[*].spec.containers[*].image}', list)).toBe('i1 i2 i3');
    expect(jsonpath('{.items[0].spec.replicas}', list)).toBe('2');
  });

  it('ranges with literal text, and prints text around actions', () => {
    expect(jsonpath('{range .items[*]}{.metadata.name}{"\\t"}{.status.phase}{"\\n"}{end}', list)).toBe('a\tRunning\nb\tPending\n');
    expect(jsonpath('names: {.items[*].metadata.name}!', list)).toBe('names: a b!');
  });

  it('filters, quoted keys and recursive descent', () => {
    expect(jsonpath('{.items[?(@.status.phase=="Running")].metadata.name}', list)).toBe('a');
    expect(jsonpath('{.items[?(@.spec.replicas>0)].metadata.name}', list)).toBe('a');
    expect(jsonpath("{.items[0].metadata.labels['app.kubernetes.io/name']}", list)).toBe('x');
    expect(jsonpath('{..image}', list)).toBe('i1 i2 i3');
  });

  it('prints objects as JSON and a missing field as nothing', () => {
    expect(jsonpath('{.items[1].metadata}', list)).toBe('{"name":"b"}');
    expect(jsonpath('{.items[0].nope.deeper}', list)).toBe('');
    expect(jsonpath('{$.kind}', list)).toBe('List');
  });

  it('rejects broken templates with a reason', () => {
    expect(() => jsonpath('{range .items[*]}{.x}', list)).toThrow(JsonPathError);
    expect(() => jsonpath('{.items[0}', list)).toThrow(/unclosed/);
    expect(() => jsonpath('{end}', list)).toThrow(/without \{range\}/);
    expect(() => jsonpath('{.items[5].metadata}', list)).toThrow(/out of bounds/);
  });
});
