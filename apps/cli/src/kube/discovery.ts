// Resource discovery: /api and /apis, then each preferred group version's resource list,
// read once per process. Resolves what a user types (plural, singular, short name, kind,
// `resource.group`, `resource.version.group`) to a resource, and suggests the nearest name
// when nothing matches, as `keel get pdos` → `did you mean "pods"?`.
import type { RestClient } from './rest';

export interface ResourceInfo {
  group: string;
  version: string;
  /** group/version, or v1 for the core group. */
  groupVersion: string;
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
  categories: string[];
}

interface APIResource {
  name: string;
  singularName?: string;
  namespaced: boolean;
  kind: string;
  verbs?: string[];
  shortNames?: string[];
  categories?: string[];
}

export class UnknownResourceError extends Error {}

/** The path of a resource collection or object: /api/v1/namespaces/ns/pods/name/sub. */
export function resourcePath(info: ResourceInfo, namespace?: string, name?: string, subresource?: string): string {
  const base = info.group === '' ? `/api/${info.version}` : `/apis/${info.group}/${info.version}`;
  const ns = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${info.resource}${name !== undefined ? `/${encodeURIComponent(name)}` : ''}${subresource ? `/${subresource}` : ''}`;
}

/** kubectl's way of naming a resource in output: `deployment.apps`, or `pod` for the core group. */
export function kindName(info: Pick<ResourceInfo, 'kind' | 'group'>): string {
  return info.group ? `${info.kind.toLowerCase()}.${info.group}` : info.kind.toLowerCase();
}

/** Optimal string alignment distance (Levenshtein with adjacent swaps): `pdos` is one step from `pods`. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The plural of the resource whose name (plural, singular or short) is nearest to `typed`, if near enough. */
export function nearestResource(typed: string, resources: ResourceInfo[]): string | undefined {
  const t = typed.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const r of resources) {
    for (const candidate of [r.resource, r.singular, ...r.shortNames]) {
      const distance = editDistance(t, candidate);
      if (!best || distance < best.distance) best = { name: r.resource, distance };
    }
  }
  if (!best) return undefined;
  // A typo, not a different word: at most a third of the letters (and at least 1) off.
  return best.distance <= Math.max(1, Math.floor(t.length / 3)) ? best.name : undefined;
}

export class Discovery {
  private all: Promise<ResourceInfo[]> | undefined;

  constructor(private readonly client: RestClient) {}

  /** Every top-level resource of every preferred group version, core group first. */
  resources(): Promise<ResourceInfo[]> {
    this.all ??= this.load();
    return this.all;
  }

  private async load(): Promise<ResourceInfo[]> {
    const [core, groups] = await Promise.all([
      this.client.get<{ versions: string[] }>('/api'),
      this.client.get<{ groups: { name: string; preferredVersion?: { groupVersion: string; version: string }; versions: { groupVersion: string; version: string }[] }[] }>('/apis'),
    ]);
    const gvs: { group: string; version: string }[] = core.versions.map((v) => ({ group: '', version: v }));
    for (const g of groups.groups) {
      const v = g.preferredVersion ?? g.versions[0];
      if (v) gvs.push({ group: g.name, version: v.version });
    }
    const lists = await Promise.all(
      gvs.map(async ({ group, version }) => {
        const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
        const list = await this.client.get<{ resources: APIResource[] }>(path);
        return list.resources
          .filter((r) => !r.name.includes('/'))
          .map(
            (r): ResourceInfo => ({
              group,
              version,
              groupVersion: group ? `${group}/${version}` : version,
              resource: r.name,
              singular: r.singularName || r.kind.toLowerCase(),
              kind: r.kind,
              namespaced: r.namespaced,
              shortNames: r.shortNames ?? [],
              verbs: r.verbs ?? [],
              categories: r.categories ?? [],
            }),
          );
      }),
    );
    return lists.flat();
  }

  /** Resolves a typed resource name; throws UnknownResourceError with a suggestion. */
  async resolve(typed: string): Promise<ResourceInfo> {
    const all = await this.resources();
    const found = matchResource(typed, all);
    if (found) return found;
    const near = nearestResource(typed.split('.')[0]!, all);
    throw new UnknownResourceError(`the server doesn't have a resource type "${typed}"${near ? `; did you mean "${near}"?` : ''}`);
  }

  /** The resource for an object's apiVersion and kind (manifests). */
  async forKind(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) as [string, string] : ['', apiVersion];
    const all = await this.resources();
    const same = all.find((r) => r.group === group && r.kind === kind && r.version === version) ?? all.find((r) => r.group === group && r.kind === kind);
    if (!same) {
      throw new UnknownResourceError(`no matches for kind "${kind}" in version "${apiVersion}": the server has no such resource (see "keel api-resources")`);
    }
    // The server may prefer another version of the group; ask for the version the manifest names.
    return { ...same, version, groupVersion: apiVersion };
  }
}

/** Matches plural, singular, short name or kind, optionally qualified by `.group` or `.version.group`. */
export function matchResource(typed: string, all: ResourceInfo[]): ResourceInfo | undefined {
  const lower = typed.toLowerCase();
  const dot = lower.indexOf('.');
  const name = dot < 0 ? lower : lower.slice(0, dot);
  const qualifier = dot < 0 ? undefined : lower.slice(dot + 1);
  const byName = (r: ResourceInfo) => r.resource === name || r.singular === name || r.shortNames.includes(name) || r.kind.toLowerCase() === name;
  const byQualifier = (r: ResourceInfo) =>
    qualifier === undefined || r.group === qualifier || `${r.version}.${r.group}` === qualifier || (r.group === '' && r.version === qualifier);
  const candidates = all.filter((r) => byName(r) && byQualifier(r));
  // An exact plural beats a short name elsewhere; the core group wins ties (as kubectl's order).
  return candidates.find((r) => r.resource === name) ?? candidates.find((r) => r.singular === name) ?? candidates[0];
}
