// Aggregated discovery (apidiscovery.k8s.io/v2): `GET /api` and `GET /apis` answer, when the
// client asks for it in Accept, one APIGroupDiscoveryList with every version's resources, so
// kubectl 1.33 learns the whole API in two requests instead of one per group version. A
// client that does not ask (kubectl 1.20, client-node) gets the plain APIVersions /
// APIGroupList as before. client-go tells the two apart by the answer's Content-Type.
import type { APIResource, APIResourceList } from '@keel/api';
import type { ServerResponse } from 'node:http';

export const AGGREGATED_DISCOVERY_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** Whether an Accept header offers apidiscovery.k8s.io/v2 APIGroupDiscoveryList (as JSON). */
export function wantsAggregatedDiscovery(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((offer) => {
    const [type, ...params] = offer.split(';').map((p) => p.trim());
    if (type !== 'application/json') return false;
    const p = new Map(params.map((kv) => kv.split('=').map((x) => x.trim()) as [string, string]));
    return p.get('g') === 'apidiscovery.k8s.io' && p.get('v') === 'v2' && p.get('as') === 'APIGroupDiscoveryList';
  });
}

interface GroupVersionKindRef {
  group: string;
  version: string;
  kind: string;
}

interface DiscoveryResource {
  resource: string;
  responseKind: GroupVersionKindRef;
  scope: 'Namespaced' | 'Cluster';
  singularResource: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  subresources?: { subresource: string; responseKind: GroupVersionKindRef; verbs: string[] }[];
}

export interface APIGroupDiscovery {
  metadata: { name?: string };
  versions: { version: string; resources: DiscoveryResource[]; freshness: 'Current' }[];
}

export interface APIGroupDiscoveryList {
  kind: 'APIGroupDiscoveryList';
  apiVersion: 'apidiscovery.k8s.io/v2';
  metadata: Record<string, never>;
  items: APIGroupDiscovery[];
}

function splitGroupVersion(gv: string): { group: string; version: string } {
  const slash = gv.indexOf('/');
  return slash < 0 ? { group: '', version: gv } : { group: gv.slice(0, slash), version: gv.slice(slash + 1) };
}

/** One group version's resources in the aggregated form: subresources nest under their resource. */
function discoveryResources(list: APIResourceList): DiscoveryResource[] {
  const own = splitGroupVersion(list.groupVersion);
  const kindOf = (r: APIResource): GroupVersionKindRef => ({ group: r.group ?? own.group, version: r.version ?? own.version, kind: r.kind });
  const out = new Map<string, DiscoveryResource>();
  for (const r of list.resources) {
    if (r.name.includes('/')) continue;
    const entry: DiscoveryResource = {
      resource: r.name,
      responseKind: kindOf(r),
      scope: r.namespaced ? 'Namespaced' : 'Cluster',
      singularResource: r.singularName,
      verbs: [...r.verbs],
    };
    if (r.shortNames?.length) entry.shortNames = [...r.shortNames];
    if (r.categories?.length) entry.categories = [...r.categories];
    out.set(r.name, entry);
  }
  for (const r of list.resources) {
    const [parent, sub] = r.name.split('/');
    if (sub === undefined) continue;
    const entry = out.get(parent!);
    if (!entry) continue;
    (entry.subresources ??= []).push({ subresource: sub, responseKind: kindOf(r), verbs: [...r.verbs] });
  }
  return [...out.values()];
}

/**
 * The APIGroupDiscoveryList of some groups; each group's versions come preferred first (as
 * Kubernetes orders them). The core group is the one named '' (served under /api).
 */
export function aggregatedDiscovery(groups: readonly { name: string; versions: readonly APIResourceList[] }[]): APIGroupDiscoveryList {
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: groups.map((g) => ({
      metadata: g.name === '' ? {} : { name: g.name },
      versions: g.versions.map((list) => ({ version: splitGroupVersion(list.groupVersion).version, resources: discoveryResources(list), freshness: 'Current' as const })),
    })),
  };
}

export function sendAggregatedDiscovery(res: ServerResponse, list: APIGroupDiscoveryList): void {
  const text = JSON.stringify(list);
  res.writeHead(200, { 'Content-Type': AGGREGATED_DISCOVERY_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text), Vary: 'Accept' });
  res.end(text);
}
