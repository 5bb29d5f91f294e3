// Applying manifests to the apiserver the way `kubectl apply --server-side` does: each
// object is a server-side apply PATCH under the `keel` field manager, which creates what
// is missing and leaves what is already as declared unchanged, so `keel up` can repeat.
import { parseAllDocuments } from 'yaml';
import type { ApiConnection } from './connection';

export interface AppliedObject {
  kind: string;
  namespace?: string;
  name: string;
  result: 'created' | 'configured' | 'unchanged';
}

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

/** Plural resource names for the kinds the examples use (discovery would give them too). */
const plurals: Record<string, string> = {
  Namespace: 'namespaces',
  Deployment: 'deployments',
  Service: 'services',
  ConfigMap: 'configmaps',
  Pod: 'pods',
  Job: 'jobs',
};

function path(m: Manifest): string {
  const plural = plurals[m.kind];
  if (!plural) throw new Error(`keel apply: kind ${m.kind} is not known to this client`);
  const base = m.apiVersion.includes('/') ? `/apis/${m.apiVersion}` : `/api/${m.apiVersion}`;
  const ns = m.kind === 'Namespace' ? '' : `/namespaces/${m.metadata.namespace ?? 'default'}`;
  return `${base}${ns}/${plural}/${m.metadata.name}`;
}

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => d.toJSON() as Manifest | null)
    .filter((m): m is Manifest => m !== null && typeof m === 'object');
}

export async function applyManifests(api: ApiConnection, manifests: Manifest[]): Promise<AppliedObject[]> {
  const out: AppliedObject[] = [];
  for (const m of manifests) {
    const before = await api.request('GET', path(m));
    const beforeRv = before.status === 200 ? (before.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion : undefined;
    const res = await api.request('PATCH', `${path(m)}?fieldManager=keel&force=true`, JSON.stringify(m), { 'Content-Type': 'application/apply-patch+yaml' });
    const body = res.body as { message?: string; metadata?: { resourceVersion: string } };
    if (res.status >= 300) throw new Error(`applying ${m.kind} ${m.metadata.name}: ${body.message ?? res.status}`);
    const result = beforeRv === undefined ? 'created' : beforeRv === body.metadata?.resourceVersion ? 'unchanged' : 'configured';
    out.push({ kind: m.kind, ...(m.metadata.namespace ? { namespace: m.metadata.namespace } : {}), name: m.metadata.name, result });
  }
  return out;
}
