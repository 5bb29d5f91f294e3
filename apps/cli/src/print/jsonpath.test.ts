import { describe, expect, it } from 'vitest';
import { jsonpath, JsonPathError } from './jsonpath';
import { customColumnsTable, goValue, parseCustomColumns, parseCustomColumnsFile, relaxedJsonPath } from './jsonpath-columns';

const list = {
  kind: 'List',
  items: [
    {
      kind: 'Pod',
      metadata: { name: 'a', labels: { 'app.kubernetes.io/name': 'x', tier: 'web' } },
      spec: { replicas: 2, containers: [{ name: 'c1', image: 'i1' }, { name: 'c2', image: 'i2' }] },
      status: { phase: 'Running', ready: true, conditions: [{ type: 'Ready', status: 'True' }] },
    },
    {
      kind: 'Pod',
      metadata: { name: 'b' },
      spec: { replicas: 0, containers: [{ name: 'c3', image: 'i3' }], nodeName: 'n1' },
      status: { phase: 'Pending', ready: false, conditions: [{ type: 'Ready', status: 'False' }] },
    },
    { kind: 'Pod', metadata: { name: 'c' }, spec: { replicas: 5, containers: [], note: null }, status: { phase: 'Running', ready: true } },
  ],
};

// kubernetes.io "JSONPath Support" examples, plus the corners kubectl's printer has.
const cases: [string, string, string][] = [
  ['field', '{.kind}', 'List'],
  ['$ is the current object', '{$.kind}', 'List'],
  ['@ is the current object', '{@.kind}', 'List'],
  ['empty field is the object itself', '{.items[2].status}', '{"phase":"Running","ready":true}'],
  ['index', '{.items[0].metadata.name}', 'a'],
  ['negative index', '{.items[-1].metadata.name}', 'c'],
  ['wildcard [*]', '{.items[*].metadata.name}', 'a b c'],
  ['wildcard .*', '{.items[0].metadata.labels.*}', 'x web'],
  ['slice', '{.items[0:2].metadata.name}', 'a b'],
  ['open slice', '{.items[1:].metadata.name}', 'b c'],
  ['slice with step', '{.items[0:3:2].metadata.name}', 'a c'],
  ['slice from the end', '{.items[-2:].metadata.name}', 'b c'],
  ['empty slice', '{.items[1:1]}', ''],
  ['index union', '{.items[0,2].metadata.name}', 'a c'],
  ['key union', "{.items[0].metadata['name','labels']}", 'a {"app.kubernetes.io/name":"x","tier":"web"}'],
  ['quoted key with dots', "{.items[0].metadata.labels['app.kubernetes.io/name']}", 'x'],
  ['quoted keys as paths (kubernetes.io example)', "{.items[0:2]['metadata.name', 'status.phase']}", 'a b Running Pending'],
  ['escaped dots', '{.items[0].metadata.labels.app\\.kubernetes\\.io/name}', 'x'],
  ['recursive descent', '{..image}', 'i1 i2 i3'],
  ['recursive then wildcard', '{.items[0].spec..name}', 'c1 c2'],
  ['nested wildcards', '{.items[*].spec.containers[*].image}', 'i1 i2 i3'],
  ['filter ==', '{.items[?(@.status.phase=="Running")].metadata.name}', 'a c'],
  ['filter single-quoted', "{.items[?(@.status.phase=='Pending')].metadata.name}", 'b'],
  ['filter !=', '{.items[?(@.status.phase!="Running")].metadata.name}', 'b'],
  ['filter <', '{.items[?(@.spec.replicas<2)].metadata.name}', 'b'],
  ['filter >', '{.items[?(@.spec.replicas>0)].metadata.name}', 'a c'],
  ['filter <=', '{.items[?(@.spec.replicas<=2)].metadata.name}', 'a b'],
  ['filter >=', '{.items[?(@.spec.replicas >= 2)].metadata.name}', 'a c'],
  ['filter on a bool', '{.items[?(@.status.ready==true)].metadata.name}', 'a c'],
  ['filter &&', '{.items[?(@.status.phase=="Running" && @.spec.replicas>2)].metadata.name}', 'c'],
  ['filter ||', '{.items[?(@.spec.replicas==0 || @.spec.replicas==5)].metadata.name}', 'b c'],
  ['filter existence', '{.items[?(@.spec.nodeName)].metadata.name}', 'b'],
  ['kubernetes.io: range with text', '{range .items[0:2]}[{.metadata.name}, {.status.phase}] {end}', '[a, Running] [b, Pending] '],
  ['filter then field', '{.items[0].status.conditions[?(@.type=="Ready")].status}', 'True'],
  ['filter with a ) in the string', '{.items[?(@.metadata.name!="x)")].metadata.name}', 'a b c'],
  ['range', '{range .items[*]}{.metadata.name}{"\\t"}{.status.phase}{"\\n"}{end}', 'a\tRunning\nb\tPending\nc\tRunning\n'],
  ['range over nothing', '{range .items[?(@.x)]}{.metadata.name}{end}done', 'done'],
  ['nested range', '{range .items[*]}{.metadata.name}:{range .spec.containers[*]}[{.name}]{end};{end}', 'a:[c1][c2];b:[c3];c:;'],
  ['$ inside range is the item, as in kubectl', '{range .items[0:1]}{$.metadata.name}{end}', 'a'],
  ['concatenation', '{.items[0].metadata.name}{.items[1].metadata.name}', 'ab'],
  ['text around actions', 'names: {.items[*].metadata.name}!', 'names: a b c!'],
  ['text outside actions stays as written', 'a\\nb', 'a\\nb'],
  ['quoted text escapes', '{"tab\\there"}{"\\u00e9\\x41"}', 'tab\thereéA'],
  ['braces inside quoted text', '{"{}"}{.kind}', '{}List'],
  ['single-quoted text', "{'it\\'s'}", "it's"],
  ['numbers', '{.items[0].spec.replicas}', '2'],
  ['booleans', '{.items[0].status.ready}', 'true'],
  ['null', '{.items[2].spec.note}', '<nil>'],
  ['objects as compact JSON with sorted keys', '{.items[1].metadata}', '{"name":"b"}'],
  ['a slice prints its items', '{.items[0].spec.containers[0:1]}', '{"image":"i1","name":"c1"}'],
  ['a list value as JSON', '{.items[1].spec.containers}', '[{"image":"i3","name":"c3"}]'],
  ['missing key prints nothing', '{.items[0].nope.deeper}', ''],
  ['missing in some items only', '{.items[*].spec.nodeName}', 'n1'],
  ['empty array with [*]', '{.items[2].spec.containers[*].name}', ''],
];

describe('jsonpath', () => {
  it.each(cases)('%s: %s', (_name, template, want) => {
    expect(jsonpath(template, list)).toBe(want);
  });

  it('prints each action as one indented JSON array with jsonpath-as-json', () => {
    expect(jsonpath('{.items[0:2].metadata.name}', list, { asJson: true })).toBe('[\n    "a",\n    "b"\n]\n');
  });

  it('escapes <, > and & in JSON as Go does', () => {
    expect(jsonpath('{.a}', { a: { b: '<x&y>' } })).toBe('{"b":"\\u003cx\\u0026y\\u003e"}');
  });

  const parseErrors: [string, RegExp][] = [
    ['{.items[0}', /^error parsing jsonpath \{\.items\[0\}, unterminated array \(at column 8\)/],
    ['{.items[?(@.a=="x")}', /unclosed array expect \] \(at column 20\)/],
    ['{.items[?(@.a=="x"}', /unterminated filter/],
    ['{.a', /unclosed action/],
    ['{.a[x]}', /invalid array index x \(at column 5\)/],
    ['{.a %}', /unrecognized character in action: U\+0025 '%' \(at column 5\)/],
    ['{"abc}', /unterminated quoted string/],
    ['{"\\q"}', /unquote string "\\q" error invalid syntax/],
    ['{.a[?(@.x=<"y")]}', /unrecognized filter operator =< \(at column 10\)/],
    ['{range .items[*]}{.x}', /\{range\} without \{end\} \(at column 1\)/],
    ['{end}', /not in range, nothing to end/],
    ['{.a....b}', /invalid multiple recursive descent/],
  ];
  it.each(parseErrors)('rejects %s, naming where', (template, want) => {
    expect(() => jsonpath(template, list)).toThrow(JsonPathError);
    expect(() => jsonpath(template, list)).toThrow(want);
  });

  it('points a caret at the column', () => {
    expect(() => jsonpath('{.a[}', {})).toThrow('error parsing jsonpath {.a[}, unterminated array (at column 4)\n  {.a[}\n     ^');
  });

  const runErrors: [string, string][] = [
    ['{.items[5].metadata}', 'array index out of bounds: index 5, length 3'],
    ['{.items[0:9]}', 'array index out of bounds: index 8, length 3'],
    ['{.items[0:2:0]}', 'step must be > 0'],
    ['{.kind[0]}', 'string is not array or slice'],
    ['{.items[0].metadata[?(@.x)]}', 'map[string]interface {} is not array or slice and cannot be filtered'],
    ['{.items[?(@.spec.replicas=="2")]}', 'incompatible types for comparison'],
    ['{.items[?(@.spec.containers[*].name=="c1")]}', 'can only compare one element at a time'],
    ['{.items[?(@.status.ready<true)]}', 'invalid type for comparison'],
    ['{.kind range}', 'unrecognized identifier range'],
  ];
  it.each(runErrors)('fails %s as kubectl does', (template, want) => {
    expect(() => jsonpath(template, list)).toThrow(`error executing jsonpath ${JSON.stringify(template)}: Error executing template: ${want}.`);
  });

  it('refuses a missing key when missing keys are not allowed', () => {
    const strict = { allowMissingKeys: false };
    expect(() => jsonpath('{.items[0].nope}', list, strict)).toThrow('Error executing template: nope is not found.');
    expect(jsonpath('{.items[*].spec.nodeName}', list, strict)).toBe('n1');
    expect(jsonpath('{.items[?(@.spec.nodeName)].metadata.name}', list, strict)).toBe('b');
    expect(() => jsonpath('{range .items[*]}{.spec.nodeName}{end}', list, strict)).toThrow(/nodeName is not found/);
  });
});

describe('custom columns', () => {
  it('relaxes paths as kubectl does', () => {
    for (const p of ['a.b', '.a.b', '{a.b}', '{.a.b}']) expect(relaxedJsonPath(p)).toBe('{.a.b}');
    expect(() => relaxedJsonPath('{a}{b}')).toThrow(/unexpected path string/);
  });

  it('prints a padded table with <none>, commas and Go maps', () => {
    const cols = parseCustomColumns('NAME:.metadata.name,NODE:.spec.nodeName,IMAGES:.spec.containers[*].image,LABELS:.metadata.labels');
    expect(customColumnsTable(cols, list.items).split('\n')).toEqual([
      'NAME      NODE      IMAGES    LABELS',
      'a         <none>    i1,i2     map[app.kubernetes.io/name:x tier:web]',
      'b         n1        i3        <none>',
      'c         <none>    <none>    <none>',
    ]);
    expect(customColumnsTable(cols.slice(0, 1), list.items, false)).toBe('a\nb\nc');
  });

  it('reads a columns file and rejects bad specs', () => {
    const cols = parseCustomColumnsFile('NAME   PHASE\n.metadata.name   {.status.phase}\n');
    expect(customColumnsTable(cols, list.items.slice(0, 1))).toBe('NAME      PHASE\na         Running');
    expect(() => parseCustomColumnsFile('NAME PHASE\n.metadata.name\n')).toThrow("number of headers (2) and field specifications (1) don't match");
    expect(() => parseCustomColumnsFile('NAME')).toThrow(/missing spec line/);
    expect(() => parseCustomColumns('NAME')).toThrow('unexpected custom-columns spec: NAME, expected <header>:<json-path-expr>');
    expect(() => parseCustomColumns('')).toThrow(/no custom columns given/);
    expect(goValue([1, { a: null }])).toBe('[1 map[a:<nil>]]');
  });
});

describe('keel get output formats', () => {
  it('reads jsonpath and custom-columns from flags and files, and prints through them', async () => {
    const { parseOutput, printObjects } = await import('../commands/get');
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'keel-jsonpath-test-'));
    try {
      writeFileSync(join(dir, 'tpl'), '{range .items[*]}{.metadata.name}{"\\n"}{end}');
      writeFileSync(join(dir, 'cols'), 'NAME PHASE\n.metadata.name .status.phase\n');
      const objs = list.items as never[];
      expect(printObjects(objs, parseOutput(`jsonpath-file=${join(dir, 'tpl')}`), false)).toBe('a\nb\nc\n');
      expect(printObjects(objs, parseOutput('jsonpath-as-json={.items[0].metadata.name}'), false)).toBe('[\n    "a"\n]\n');
      expect(printObjects(objs, parseOutput(`custom-columns-file=${join(dir, 'cols')}`), false, { noHeaders: true })).toBe('a         Running\nb         Pending\nc         Running');
      expect(printObjects(objs, parseOutput('custom-columns=N:metadata.name'), false)).toBe('N\na\nb\nc');
      expect(() => printObjects(objs, parseOutput('jsonpath={.items[0].x}'), false, { allowMissingKeys: false })).toThrow(/x is not found/);
      expect(() => parseOutput('jsonpath={.a[}')).toThrow(/error parsing jsonpath \{\.a\[\}, unterminated array/);
      expect(() => parseOutput(`jsonpath-file=${join(dir, 'nope')}`)).toThrow(/error reading --template/);
      expect(() => parseOutput('custom-columns')).toThrow(/no template given/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
