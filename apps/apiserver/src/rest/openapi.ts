// The small part of OpenAPI v3 kubectl needs before it creates or applies (with its default
// --validate): an index of group versions, and for each one a document naming every
// resource's path with its group-version-kind and the `fieldValidation` parameter. kubectl
// then validates field names only against what the document describes, which is nothing
// beyond the envelope, so every field is accepted and the server does the validating.
import { formatGroupVersion, type Scheme } from '@keel/api';

function gvPath(gv: { group: string; version: string }): string {
  return gv.group === '' ? `api/${gv.version}` : `apis/${gv.group}/${gv.version}`;
}

export function openApiIndex(scheme: Scheme) {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of scheme.groupVersions()) {
    const p = gvPath(gv);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=keel1` };
  }
  return { paths };
}

export function openApiDocument(scheme: Scheme, path: string) {
  const gv = scheme.groupVersions().find((g) => gvPath(g) === path);
  if (!gv) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const info of scheme.resources) {
    if (info.group !== gv.group || info.version !== gv.version) continue;
    const gvk = { group: info.group, version: info.version, kind: info.kind };
    const schemaName = `${info.group === '' ? 'io.k8s.api.core' : info.group}.${info.version}.${info.kind}`;
    schemas[schemaName] = {
      type: 'object',
      'x-kubernetes-group-version-kind': [gvk],
      'x-kubernetes-preserve-unknown-fields': true,
      properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
    };
    const base = `/${path}${info.namespaced ? '/namespaces/{namespace}' : ''}/${info.resource}`;
    const op = (verb: string) => ({
      'x-kubernetes-action': verb,
      'x-kubernetes-group-version-kind': gvk,
      parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } }],
      requestBody: { content: { 'application/json': { schema: { $ref: `#/components/schemas/${schemaName}` } } } },
      responses: { '200': { description: 'OK' } },
    });
    paths[base] = { post: op('post') };
    paths[`${base}/{name}`] = { put: op('put'), patch: op('patch') };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Keel', version: formatGroupVersion(gv) },
    paths,
    components: { schemas },
  };
}
