import { describe, expect, it } from 'vitest';
import { ApiError } from './errors';
import { parsePodExecOptions, parsePodLogOptions, resolvePodContainer } from './pod-subresources';
import type { Pod } from './types';

const q = (text: string) => new URLSearchParams(text);

function failure(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('pod log options', () => {
  it('reads what kubectl logs sends', () => {
    expect(parsePodLogOptions(q('container=web&follow=true&tailLines=10&timestamps=true'))).toEqual({ container: 'web', follow: true, tailLines: 10, timestamps: true });
    expect(parsePodLogOptions(q('previous=false&sinceSeconds=60'))).toEqual({ previous: false, sinceSeconds: 60 });
  });

  it('answers 400 for malformed values and 422 for invalid ones', () => {
    expect(failure(() => parsePodLogOptions(q('tailLines=ten'))).httpStatus).toBe(400);
    const invalid = failure(() => parsePodLogOptions(q('tailLines=-1&limitBytes=0&sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z')));
    expect(invalid.httpStatus).toBe(422);
    expect(invalid.causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message))).toEqual([
      'tailLines: Invalid value: -1: must be greater than or equal to 0',
      'limitBytes: Invalid value: 0: must be greater than 0',
      'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified',
    ]);
  });
});

describe('pod exec options', () => {
  it('reads the command and streams', () => {
    expect(parsePodExecOptions(q('command=ls&command=-l&container=web&stdout=true&stderr=true'))).toEqual({
      command: ['ls', '-l'],
      container: 'web',
      stdout: true,
      stderr: true,
    });
  });

  it('needs a command and a stream', () => {
    expect(failure(() => parsePodExecOptions(q('stdout=true'))).message).toBe('you must specify at least 1 command');
    expect(failure(() => parsePodExecOptions(q('command=ls'))).message).toBe('you must specify at least one of stdin, stdout, stderr');
  });
});

describe('resolvePodContainer', () => {
  const pod = (names: string[], inits: string[] = []): Pod => ({
    metadata: { name: 'web-1' },
    spec: { containers: names.map((name) => ({ name })), initContainers: inits.map((name) => ({ name })) },
  });

  it('picks the only container, or the named one', () => {
    expect(resolvePodContainer(pod(['web']), undefined)).toBe('web');
    expect(resolvePodContainer(pod(['web', 'side'], ['init']), 'init')).toBe('init');
  });

  it('asks for a name when there is a choice, in kubectl-familiar words', () => {
    expect(failure(() => resolvePodContainer(pod(['web', 'side'], ['init']), undefined)).message).toBe(
      'a container name must be specified for pod web-1, choose one of: [web side] or one of the init containers: [init]',
    );
    expect(failure(() => resolvePodContainer(pod(['web']), 'db')).message).toBe('container db is not valid for pod web-1');
  });
});
