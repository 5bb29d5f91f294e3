// Objects as YAML and JSON the way kubectl prints them: keys sorted (kubectl prints through
// unstructured maps), JSON indented by four spaces, YAML with list items at their parent's
// indentation; several objects become a `kind: List`. Also the `-o name` form.
import { stringify } from 'yaml';

export interface KubeObj {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    ownerReferences?: { kind: string; name: string; uid?: string; controller?: boolean; apiVersion?: string }[];
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/**
 * YAML 1.1 rules for what needs quotes, as kubectl's YAML library follows: `yes`, `on` and
 * timestamps stay strings for every reader, so `keel get -o yaml | kubectl apply -f -` works.
 */
export function toYaml(v: unknown): string {
  return stringify(sortKeys(v), { version: '1.1', indentSeq: false, lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false });
}

export function toJson(v: unknown): string {
  return JSON.stringify(sortKeys(v), null, 4) + '\n';
}

/** Several objects as a kubectl List. */
export function asList(items: KubeObj[]): KubeObj {
  return { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } };
}

/** `-o name`: `pod/web-1`, `deployment.apps/web`. */
export function objectName(obj: KubeObj): string {
  const group = obj.apiVersion?.includes('/') ? obj.apiVersion.split('/')[0] : '';
  return `${(obj.kind ?? '').toLowerCase()}${group ? `.${group}` : ''}/${obj.metadata?.name ?? ''}`;
}
