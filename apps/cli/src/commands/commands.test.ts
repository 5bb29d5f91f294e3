import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { ApiStatusError } from '../kube/rest';
import { errorLine, flagsOf, parseDuration, typeNameArgs, UsageError, withKubeFlags } from './context';
import { exitCodeOf, parsePortPair } from './exec';
import { parseOutput } from './get';
import { metaPatch, parseMetaChanges } from './modify';
import { applyTaints, parseTaints } from './nodes';
import { deploymentStatus } from './rollout';
import { sameDeclared } from './apply';
import { stripComments } from './edit';

describe('arguments', () => {
  it('splits TYPE NAME…, TYPE/NAME… and TYPE,TYPE', () => {
    expect(typeNameArgs(['pods', 'a', 'b'])).toEqual([{ type: 'pods', names: ['a', 'b'] }]);
    expect(typeNameArgs(['pod/a', 'svc/b', 'pod/c'])).toEqual([
      { type: 'pod', names: ['a', 'c'] },
      { type: 'svc', names: ['b'] },
    ]);
    expect(typeNameArgs(['pods,svc'])).toEqual([
      { type: 'pods', names: [] },
      { type: 'svc', names: [] },
    ]);
    expect(() => typeNameArgs(['pod/'])).toThrow(UsageError);
  });

  it('parses output formats and durations, naming the bad value', () => {
    expect(parseOutput('wide')).toEqual({ kind: 'table', wide: true });
    expect(parseOutput('=yaml')).toEqual({ kind: 'yaml' });
    expect(parseOutput('jsonpath={.a}')).toEqual({ kind: 'jsonpath', template: '{.a}' });
    expect(parseOutput('jsonpath=.metadata.name')).toEqual({ kind: 'jsonpath', template: '{.metadata.name}' });
    expect(() => parseOutput('xml')).toThrow(/output format "xml"/);
    expect(parseDuration('90s', '--timeout')).toBe(90_000);
    expect(parseDuration('2m', '--timeout')).toBe(120_000);
    expect(() => parseDuration('soon', '--timeout')).toThrow(/--timeout/);
  });
});

describe('connection flags', () => {
  it('may come before the verb, and the verb’s own win', () => {
    const program = withKubeFlags(new Command('keel').exitOverride()).enablePositionalOptions();
    let got: ReturnType<typeof flagsOf> | undefined;
    withKubeFlags(program.command('get').argument('[args...]')).action((_a, _o, cmd: Command) => {
      got = flagsOf(cmd);
    });
    program.parse(['-n', 'outer', '--context', 'c1', 'get', 'pods', '-n', 'inner'], { from: 'user' });
    expect(got).toMatchObject({ namespace: 'inner', context: 'c1' });
    program.parse(['--namespace', 'outer', 'get', 'pods'], { from: 'user' });
    expect(got).toMatchObject({ namespace: 'outer' });
  });
});

describe('errors', () => {
  it('print as kubectl prints them', () => {
    expect(errorLine(new ApiStatusError(404, { kind: 'Status', reason: 'NotFound', message: 'pods "x" not found' }))).toBe('Error from server (NotFound): pods "x" not found');
    expect(errorLine(new ApiStatusError(401, { kind: 'Status', reason: 'Unauthorized', message: 'Unauthorized' }))).toBe('error: You must be logged in to the server (Unauthorized)');
    expect(errorLine(new ApiStatusError(500, { message: 'boom' }))).toBe('Error from server (InternalError): boom');
    expect(errorLine(new UsageError('bad'))).toBe('error: bad');
  });
});

describe('label and annotate', () => {
  it('separates changes from names and checks keys and values', () => {
    expect(parseMetaChanges(['a=1', 'b-', 'example.com/c='], 'label').changes).toEqual({ set: { a: '1', 'example.com/c': '' }, remove: ['b'] });
    expect(() => parseMetaChanges(['a=not valid'], 'label')).toThrow(/invalid label value "not valid" for "a"/);
    expect(() => parseMetaChanges(['-bad=1'], 'label')).toThrow(/invalid label key "-bad"/);
    expect(parseMetaChanges(['note=any text at all'], 'annotation').changes.set).toEqual({ note: 'any text at all' });
    expect(() => parseMetaChanges([], 'label')).toThrow(/at least one label update/);
  });

  it('refuses to replace a value without --overwrite, and skips what would not change', () => {
    const changes = { set: { a: '2', b: '1' }, remove: ['gone', 'c'] };
    expect(() => metaPatch({ a: '1' }, changes, false)).toThrow(/'a' already has a value \(1\), and --overwrite is false/);
    expect(metaPatch({ a: '1', c: 'x' }, changes, true)).toEqual({ a: '2', b: '1', c: null });
    expect(metaPatch({ a: '2', b: '1' }, { set: { a: '2' }, remove: ['zzz'] }, false)).toBeUndefined();
  });
});

describe('taints', () => {
  it('parses additions and removals, rejecting unknown effects', () => {
    expect(parseTaints(['dedicated=gpu:NoSchedule', 'spot:PreferNoSchedule', 'old-', 'x:NoExecute-'])).toEqual({
      add: [
        { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
        { key: 'spot', effect: 'PreferNoSchedule' },
      ],
      remove: [{ key: 'old' }, { key: 'x', effect: 'NoExecute' }],
    });
    expect(() => parseTaints(['k=v:Sometimes'])).toThrow(/invalid taint effect "Sometimes"/);
    expect(() => parseTaints(['novalue'])).toThrow(/KEY\[=VALUE\]:EFFECT/);
  });

  it('adds, replaces with --overwrite, and removes', () => {
    const cur = [{ key: 'a', value: '1', effect: 'NoSchedule' }];
    expect(applyTaints(cur, { add: [{ key: 'b', effect: 'NoExecute' }], remove: [] }, false)).toHaveLength(2);
    expect(() => applyTaints(cur, { add: [{ key: 'a', value: '2', effect: 'NoSchedule' }], remove: [] }, false)).toThrow(/--overwrite/);
    expect(applyTaints(cur, { add: [], remove: [{ key: 'a' }] }, false)).toEqual([]);
    expect(() => applyTaints(cur, { add: [], remove: [{ key: 'zz' }] }, false)).toThrow(/taint "zz" not found/);
  });
});

describe('rollout status', () => {
  const d = (spec: number, status: Record<string, number>, generation = 1) => ({ metadata: { name: 'web', generation }, spec: { replicas: spec }, status: { observedGeneration: 1, ...status } });
  it('says what it waits for, as kubectl does', () => {
    expect(deploymentStatus(d(2, {}, 2)).message).toBe('Waiting for deployment spec update to be observed...');
    expect(deploymentStatus(d(2, { updatedReplicas: 1, replicas: 2 })).message).toMatch(/1 out of 2 new replicas have been updated/);
    expect(deploymentStatus(d(2, { updatedReplicas: 2, replicas: 3 })).message).toMatch(/1 old replicas are pending termination/);
    expect(deploymentStatus(d(2, { updatedReplicas: 2, replicas: 2, availableReplicas: 1 })).message).toMatch(/1 of 2 updated replicas are available/);
    expect(deploymentStatus(d(2, { updatedReplicas: 2, replicas: 2, availableReplicas: 2 }))).toEqual({ done: true, message: 'deployment "web" successfully rolled out' });
  });
});

describe('apply results', () => {
  it('is unchanged when only status and versions moved', () => {
    const before = { metadata: { name: 'a', resourceVersion: '1' }, spec: { x: 1 }, status: { y: 1 } };
    expect(sameDeclared(before, { ...before, metadata: { name: 'a', resourceVersion: '2' }, status: { y: 2 } })).toBe(true);
    expect(sameDeclared(before, { ...before, metadata: { name: 'a', resourceVersion: '2' }, spec: { x: 2 } })).toBe(false);
  });
});

describe('exec and port-forward', () => {
  it("takes the remote command's exit code from the final Status", () => {
    expect(exitCodeOf({ status: 'Success' })).toEqual({ code: 0 });
    expect(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', message: 'x', details: { causes: [{ reason: 'ExitCode', message: '42' } as never] } })).toEqual({ code: 42 });
    expect(exitCodeOf({ status: 'Failure', message: 'container not found' })).toEqual({ code: 1, message: 'container not found' });
  });

  it('parses port pairs', () => {
    expect(parsePortPair('8080:80')).toEqual({ local: 8080, remote: 80 });
    expect(parsePortPair(':80')).toEqual({ local: 0, remote: 80 });
    expect(parsePortPair('80')).toEqual({ local: 80, remote: 80 });
    expect(() => parsePortPair('a:b')).toThrow(/invalid port "a:b"/);
    expect(() => parsePortPair('1:70000')).toThrow(/1-65535/);
  });
});

describe('edit', () => {
  it('ignores comment lines and treats an empty file as an abort', () => {
    expect(stripComments('# hi\na: 1\n  # indented comment\n')).toBe('a: 1\n');
    expect(stripComments('# only\n\n')).toBeUndefined();
  });
});
