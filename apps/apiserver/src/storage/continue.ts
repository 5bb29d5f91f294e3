// Continue tokens for paged lists, as Kubernetes makes them: an opaque base64 of the
// revision the first page was read at and the key to start the next page from. Every page
// of one list reads at that same revision, so the pages form one consistent snapshot.
import { ApiErrors } from '@keel/api';

interface Token {
  v: 'keel.v1';
  rv: number;
  start: string;
}

export function encodeContinue(revision: number, nextKey: string): string {
  const token: Token = { v: 'keel.v1', rv: revision, start: nextKey };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

/** The revision and start key of a continue token, relative to the list's key prefix. */
export function decodeContinue(token: string, prefix: string): { revision: number; startKey: string } {
  let parsed: Partial<Token>;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<Token>;
  } catch {
    throw ApiErrors.badRequest('continue key is not valid: not a continue token');
  }
  if (parsed.v !== 'keel.v1' || typeof parsed.rv !== 'number' || typeof parsed.start !== 'string' || parsed.rv <= 0) {
    throw ApiErrors.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  if (parsed.start.includes('..') || parsed.start.startsWith('/')) {
    throw ApiErrors.badRequest('continue key is not valid: path traversal');
  }
  return { revision: parsed.rv, startKey: prefix + parsed.start };
}
