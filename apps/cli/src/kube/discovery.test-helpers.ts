// ResourceInfo fixtures for the tests of discovery and of the commands that use it.
import type { ResourceInfo } from './discovery';

/** A resource as discovery would list it; namespaced unless told. */
export const resourceInfo = (group: string, version: string, resource: string, kind: string, shortNames: string[] = [], namespaced = true): ResourceInfo => ({
  group,
  version,
  groupVersion: group ? `${group}/${version}` : version,
  resource,
  singular: kind.toLowerCase(),
  kind,
  namespaced,
  shortNames,
  verbs: [],
  categories: [],
});
