// The write strategies: what the apiserver does to an object between decoding it and
// validating it, per Kubernetes' rest.BeforeCreate / BeforeUpdate and each kind's
// PrepareForCreate / PrepareForUpdate. On create the server owns uid, creationTimestamp,
// generation and (for kinds with a status subresource) the initial status; on update the
// identity fields and deletion marks stay as stored, status stays unless written through the
// status subresource, and generation moves only with the spec. The uid and the clock come in
// as arguments, so this stays pure.

import { applyDefaults } from './defaults';
import { mergeStringData } from './secrets';
import { deepCopy, formatTime, keepSpec, keepStatus, nextGeneration } from './objects';
import { Quantity } from './quantity';
import type { ResourceInfo } from './scheme';
import type { Container, Namespace, Pod, Secret } from './types/core';
import type { KubeObject, ObjectMeta } from './types/meta';

/** What the server supplies for a new object: its uid and the current time. */
export interface CreateContext {
  uid: string;
  /** Milliseconds since the epoch, or a Date. */
  now: number | Date;
}

type StrategyInfo = Pick<ResourceInfo, 'group' | 'kind' | 'statusFields' | 'tracksGeneration'>;

/**
 * Pod QoS class, as the kubelet and `kubectl describe` report it: BestEffort without any cpu or
 * memory request or limit; Guaranteed when every container limits both and the pod's total
 * requests equal its total limits; Burstable otherwise. Expects a defaulted pod (requests
 * filled in from limits).
 */
export function podQOSClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers: Container[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  const add = (sums: Map<string, Quantity>, name: string, q: Quantity) => sums.set(name, sums.get(name)?.add(q) ?? q);
  let guaranteed = true;
  for (const container of containers) {
    for (const [name, text] of Object.entries(container.resources?.requests ?? {})) {
      const q = Quantity.tryParse(text);
      if ((name === 'cpu' || name === 'memory') && q && q.sign() > 0) add(requests, name, q);
    }
    const limited = new Set<string>();
    for (const [name, text] of Object.entries(container.resources?.limits ?? {})) {
      const q = Quantity.tryParse(text);
      if ((name === 'cpu' || name === 'memory') && q && q.sign() > 0) {
        limited.add(name);
        add(limits, name, q);
      }
    }
    if (!limited.has('cpu') || !limited.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, request] of requests) {
      const limit = limits.get(name);
      if (!limit || !limit.equals(request)) guaranteed = false;
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

/** The status a new object starts with, for kinds whose status the server owns. */
function initialStatus(info: StrategyInfo, object: KubeObject): unknown {
  switch (`${info.group}/${info.kind}`) {
    case '/Pod':
      return { phase: 'Pending', qosClass: podQOSClass(object as Pod) };
    case '/Namespace':
      return { phase: 'Active' };
    case '/Service':
      return { loadBalancer: {} };
    case '/Node':
      // The agent registers its node with capacity and addresses already filled in.
      return (object as { status?: unknown }).status;
    default:
      return {};
  }
}

/**
 * A new object as it will be stored: Secret stringData folded in, defaults applied, uid and
 * creationTimestamp set, generation 1 where tracked, deletion marks and resourceVersion
 * dropped, and the status reset for kinds with a status subresource.
 */
export function prepareForCreate<T extends KubeObject>(info: StrategyInfo, object: T, context: CreateContext): T {
  let prepared = deepCopy(object);
  // The uid first: defaulting a Job derives its selector from it.
  prepared = { ...prepared, metadata: { ...prepared.metadata, uid: context.uid, creationTimestamp: formatTime(context.now) } };
  if (info.group === '' && info.kind === 'Secret') prepared = mergeStringData(prepared as Secret) as unknown as T;
  prepared = applyDefaults(prepared);
  const metadata: ObjectMeta = { ...prepared.metadata };
  delete metadata.deletionTimestamp;
  delete metadata.deletionGracePeriodSeconds;
  delete metadata.resourceVersion;
  delete metadata.selfLink;
  const generation = nextGeneration(info, prepared, undefined);
  if (generation === undefined) delete metadata.generation;
  else metadata.generation = generation;
  const out = { ...prepared, metadata } as T;
  if (info.statusFields.includes('status')) {
    const status = initialStatus(info, out);
    const record = out as unknown as Record<string, unknown>;
    if (status === undefined) delete record['status'];
    else record['status'] = status;
  }
  return out;
}

/** Identity and deletion marks the stored object keeps whatever an update says. */
function keepSystemFields(metadata: ObjectMeta, current: ObjectMeta): ObjectMeta {
  const out: ObjectMeta = { ...metadata };
  if (!out.uid && current.uid) out.uid = current.uid;
  if (current.creationTimestamp) out.creationTimestamp = current.creationTimestamp;
  if (current.deletionTimestamp) out.deletionTimestamp = current.deletionTimestamp;
  else delete out.deletionTimestamp;
  if (current.deletionGracePeriodSeconds !== undefined) out.deletionGracePeriodSeconds = current.deletionGracePeriodSeconds;
  else delete out.deletionGracePeriodSeconds;
  return out;
}

/**
 * A write to the main resource: Secret stringData folded in, defaults applied, status kept as
 * stored (for kinds with a status subresource), identity and deletion marks kept, and
 * generation bumped only when the spec changed. Validate the result against `current` next.
 */
export function prepareForUpdate<T extends KubeObject>(info: StrategyInfo, updated: T, current: T): T {
  let prepared = deepCopy(updated);
  if (info.group === '' && info.kind === 'Secret') prepared = mergeStringData(prepared as Secret) as unknown as T;
  prepared = applyDefaults(prepared);
  prepared = keepStatus(info, prepared, current);
  if (info.group === '' && info.kind === 'Namespace') {
    // A namespace's finalizers change only through its `finalize` subresource.
    const spec = { ...((prepared as Namespace).spec ?? {}) };
    const finalizers = (current as Namespace).spec?.finalizers;
    if (finalizers) spec.finalizers = [...finalizers];
    else delete spec.finalizers;
    prepared = { ...prepared, spec } as T;
  }
  const metadata = keepSystemFields(prepared.metadata, current.metadata);
  const generation = nextGeneration(info, prepared, current);
  if (generation === undefined) delete metadata.generation;
  else metadata.generation = generation;
  return { ...prepared, metadata };
}

/** A write to the `status` subresource: the stored object with only its status replaced. */
export function prepareForStatusUpdate<T extends KubeObject>(info: StrategyInfo, updated: T, current: T): T {
  return keepSpec(info, updated, current);
}

/** The alphabet of generated name suffixes: no vowels (no words) and no look-alikes (0/o, 1/l). */
const nameSuffixAlphabet = 'bcdfghjklmnpqrstvwxz2456789';
const generatedSuffixLength = 5;
const maxGeneratedNameLength = 63;

/**
 * A name for an object created with only `generateName`: the prefix, cut so the whole fits
 * in 63 characters, and five random characters. `random` returns numbers in [0, 1), such as
 * a seeded generator in tests; a name taken already is the caller's to retry (409).
 */
export function generateName(prefix: string, random: () => number): string {
  const base = prefix.length > maxGeneratedNameLength - generatedSuffixLength ? prefix.slice(0, maxGeneratedNameLength - generatedSuffixLength) : prefix;
  let suffix = '';
  for (let i = 0; i < generatedSuffixLength; i++) {
    suffix += nameSuffixAlphabet[Math.floor(random() * nameSuffixAlphabet.length) % nameSuffixAlphabet.length];
  }
  return base + suffix;
}

/** A write to a namespace's `finalize` subresource: only spec.finalizers changes. */
export function prepareForFinalize(updated: Namespace, current: Namespace): Namespace {
  const finalizers = updated.spec?.finalizers;
  const spec = { ...(current.spec ?? {}) };
  if (finalizers && finalizers.length > 0) spec.finalizers = [...finalizers];
  else delete spec.finalizers;
  return { ...deepCopy(current), spec, metadata: { ...current.metadata, resourceVersion: updated.metadata.resourceVersion ?? current.metadata.resourceVersion } };
}
