// Field selectors (`?fieldSelector=metadata.name=x,spec.nodeName=,status.phase!=Failed`):
// parsing, and the per-resource table of selectable fields with how to read each one from
// an object. Only the fields Kubernetes indexes are selectable; asking for another is a 400
// `field label not supported: <field>`, so a typo never silently selects everything.

import { ApiErrors } from '../errors';
import type { Event, Job, Namespace, Node, Pod, ReplicaSet, Secret, Service } from '../types';
import type { KubeObject } from '../types/meta';
import { SelectorParseError } from './labels';

export interface FieldRequirement {
  field: string;
  operator: '=' | '==' | '!=';
  value: string;
}

export interface FieldSelectorQuery {
  readonly requirements: readonly FieldRequirement[];
  /** Whether the object's selectable fields satisfy every requirement. */
  matches(fields: Readonly<Record<string, string>>): boolean;
  isEmpty(): boolean;
  toString(): string;
}

/** Reads a resource's selectable fields as strings (a missing field reads as ''). */
type FieldReader = (object: KubeObject) => string;

const text = (value: unknown): string => (value === undefined || value === null ? '' : String(value));

const metaFields: Record<string, FieldReader> = {
  'metadata.name': (o) => text(o.metadata.name),
  'metadata.namespace': (o) => text(o.metadata.namespace),
};

/** Per resource (plural), the fields beyond metadata.name and metadata.namespace. */
const resourceFields: Record<string, Record<string, FieldReader>> = {
  pods: {
    'spec.nodeName': (o) => text((o as Pod).spec?.nodeName),
    'spec.restartPolicy': (o) => text((o as Pod).spec?.restartPolicy),
    'spec.schedulerName': (o) => text((o as Pod).spec?.schedulerName),
    'spec.serviceAccountName': (o) => text((o as Pod).spec?.serviceAccountName),
    'spec.hostNetwork': (o) => text((o as Pod).spec?.hostNetwork ?? false),
    'status.phase': (o) => text((o as Pod).status?.phase),
    'status.podIP': (o) => text((o as Pod).status?.podIP),
    'status.nominatedNodeName': (o) => text((o as Pod).status?.nominatedNodeName),
  },
  events: {
    'involvedObject.kind': (o) => text((o as Event).involvedObject?.kind),
    'involvedObject.namespace': (o) => text((o as Event).involvedObject?.namespace),
    'involvedObject.name': (o) => text((o as Event).involvedObject?.name),
    'involvedObject.uid': (o) => text((o as Event).involvedObject?.uid),
    'involvedObject.apiVersion': (o) => text((o as Event).involvedObject?.apiVersion),
    'involvedObject.resourceVersion': (o) => text((o as Event).involvedObject?.resourceVersion),
    'involvedObject.fieldPath': (o) => text((o as Event).involvedObject?.fieldPath),
    reason: (o) => text((o as Event).reason),
    reportingComponent: (o) => text((o as Event).reportingComponent),
    source: (o) => text((o as Event).source?.component),
    type: (o) => text((o as Event).type),
  },
  nodes: { 'spec.unschedulable': (o) => text((o as Node).spec?.unschedulable ?? false) },
  namespaces: { 'status.phase': (o) => text((o as Namespace).status?.phase) },
  secrets: { type: (o) => text((o as Secret).type) },
  services: {
    'spec.clusterIP': (o) => text((o as Service).spec?.clusterIP),
    'spec.type': (o) => text((o as Service).spec?.type),
  },
  replicasets: { 'status.replicas': (o) => text((o as ReplicaSet).status?.replicas ?? 0) },
  jobs: { 'status.successful': (o) => text((o as Job).status?.succeeded ?? 0) },
};

function readers(resource: string): Record<string, FieldReader> {
  return { ...metaFields, ...(resourceFields[resource] ?? {}) };
}

/** The field names `?fieldSelector=` accepts for a resource (plural). */
export function supportedFieldSelectors(resource: string): string[] {
  return Object.keys(readers(resource));
}

/** An object's selectable fields as a map, for matching and for a watch cache's index. */
export function selectableFields(resource: string, object: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, read] of Object.entries(readers(resource))) out[field] = read(object);
  return out;
}

class Query implements FieldSelectorQuery {
  constructor(readonly requirements: readonly FieldRequirement[]) {}

  matches(fields: Readonly<Record<string, string>>): boolean {
    return this.requirements.every((req) => {
      const actual = fields[req.field] ?? '';
      return req.operator === '!=' ? actual !== req.value : actual === req.value;
    });
  }

  isEmpty(): boolean {
    return this.requirements.length === 0;
  }

  toString(): string {
    const escape = (s: string) => s.replace(/[\\,=]/g, (c) => `\\${c}`);
    return this.requirements.map((r) => `${r.field}${r.operator}${escape(r.value)}`).join(',');
  }
}

/** Splits on a separator not preceded by a backslash escape. */
function splitUnescaped(input: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c === '\\' && i + 1 < input.length) {
      current += c + input[i + 1];
      i++;
    } else if (c === separator) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

function unescape(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\') {
      const next = value[i + 1];
      if (next === undefined || !'\\,='.includes(next)) throw new SelectorParseError(`invalid field selector value: ${JSON.stringify(value)}: invalid escape sequence`);
      out += next;
      i++;
    } else if (c === ',' || c === '=') {
      throw new SelectorParseError(`invalid field selector value: ${JSON.stringify(value)}: unescaped ${c}`);
    } else {
      out += c;
    }
  }
  return out;
}

/** Parses the query-string syntax; the empty string selects everything. Throws SelectorParseError. */
export function parseFieldSelector(input: string): FieldSelectorQuery {
  const requirements: FieldRequirement[] = [];
  if (input.trim() === '') return new Query([]);
  for (const term of splitUnescaped(input, ',')) {
    const match = /^([^=!]*?)(!=|==|=)(.*)$/s.exec(term);
    if (!match || match[1]!.trim() === '') throw new SelectorParseError(`invalid selector: '${input}'; can't understand '${term}'`);
    requirements.push({ field: match[1]!.trim(), operator: match[2] as FieldRequirement['operator'], value: unescape(match[3]!) });
  }
  return new Query(requirements);
}

/**
 * Parses `?fieldSelector=` for one resource and returns a predicate over its objects. A parse
 * error or a field the resource cannot select by is a 400 ApiError.
 */
export function compileFieldSelector(resource: string, input: string): { query: FieldSelectorQuery; matches: (object: KubeObject) => boolean } {
  let query: FieldSelectorQuery;
  try {
    query = parseFieldSelector(input);
  } catch (err) {
    if (err instanceof SelectorParseError) throw ApiErrors.badRequest(err.message);
    throw err;
  }
  const known = readers(resource);
  for (const req of query.requirements) {
    if (!(req.field in known)) throw ApiErrors.badRequest(`field label not supported: ${req.field}`);
  }
  return { query, matches: (object) => query.matches(selectableFields(resource, object)) };
}
