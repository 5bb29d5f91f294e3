// What every cluster has from its first moment, as kube-apiserver's bootstrap controller
// ensures: the system namespaces. Safe to run on every start and from several apiservers at
// once (a create that loses the race to another apiserver is simply done).
import { ApiError, scheme } from '@keel/api';
import type { ApiHandler } from './registry/handler';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;

export async function ensureSystemNamespaces(handler: ApiHandler): Promise<string[]> {
  const info = scheme.lookup('namespaces');
  if (!info) throw new Error('the scheme has no namespaces resource');
  const created: string[] = [];
  for (const name of SYSTEM_NAMESPACES) {
    try {
      await handler.create(info, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      created.push(name);
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
    }
  }
  return created;
}
