// Regenerates src/rest/protobuf/tables.ts from a kubectl binary: the gzipped
// FileDescriptorProtos its k8s.io/api packages register give every message's field names,
// numbers and types; the Go struct tags in the binary give the JSON names where they differ
// (`uID` → `uid`), which fields are inline, and which never omit their zero value. Pointer
// fields (whose zero means something) are not visible in either, so they are listed below.
//   npx tsx apps/apiserver/scripts/protobuf-tables.ts <path to kubectl> > apps/apiserver/src/rest/protobuf/tables.ts
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants, gunzipSync } from 'node:zlib';

interface Field {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName?: string;
}
interface Message {
  name: string;
  field?: Field[];
  nestedType?: (Message & { options?: { mapEntry?: boolean } })[];
}
interface FileDescriptor {
  name?: string;
  package: string;
  messageType?: Message[];
}
interface DescriptorType {
  decode(bytes: Uint8Array): object;
  toObject(message: object, opts: { enums: StringConstructor }): FileDescriptor;
}

const require = createRequire(import.meta.url);
const protobuf = require('protobufjs') as { Root: { fromJSON(json: object): { lookupType(name: string): DescriptorType } } };
const FileDescriptorProto = protobuf.Root.fromJSON(require('protobufjs/google/protobuf/descriptor.json') as object).lookupType('google.protobuf.FileDescriptorProto');

if (!process.argv[2]) throw new Error('usage: protobuf-tables.ts <path to a kubectl binary>');
const binary = readFileSync(process.argv[2]);

/** Every k8s.io descriptor in the binary, by file name. */
const files = new Map<string, FileDescriptor>();
for (let i = binary.indexOf(Buffer.from([0x1f, 0x8b, 0x08])); i >= 0; i = binary.indexOf(Buffer.from([0x1f, 0x8b, 0x08]), i + 3)) {
  try {
    const fd = FileDescriptorProto.toObject(FileDescriptorProto.decode(gunzipSync(binary.subarray(i, i + 200_000), { finishFlush: constants.Z_SYNC_FLUSH })), { enums: String });
    if (fd.name?.startsWith('k8s.io/')) files.set(fd.name, fd);
  } catch {
    // not a descriptor
  }
}

/** Go struct tags: `json:"name,omitempty" protobuf:"bytes,1,opt,name=name"`. */
const tags = [...new Set(binary.toString('latin1').match(/json:"[^"]*" protobuf:"[^"]*"/g))].map((t) => {
  const [, json, proto] = /json:"([^"]*)" protobuf:"([^"]*)"/.exec(t) as unknown as [string, string, string];
  const [jsonName, ...opts] = json.split(',') as [string, ...string[]];
  const p = proto.split(',');
  return { json: jsonName, omitempty: opts.includes('omitempty'), inline: opts.includes('inline'), number: Number(p[1]), name: (p.find((x) => x.startsWith('name=')) ?? '').slice(5) };
});

const packages: Record<string, string> = {
  'k8s.io.apimachinery.pkg.apis.meta.v1': 'meta.v1',
  'k8s.io.apimachinery.pkg.api.resource': 'resource',
  'k8s.io.apimachinery.pkg.util.intstr': 'intstr',
  'k8s.io.apimachinery.pkg.runtime': 'runtime',
  'k8s.io.apimachinery.pkg.runtime.schema': 'schema',
};
for (const g of ['core', 'apps', 'batch', 'discovery', 'coordination', 'rbac', 'scheduling', 'authentication', 'authorization', 'policy', 'autoscaling']) packages[`k8s.io.api.${g}.v1`] = `${g}.v1`;

// Pointers (and fields JSON never omits) whose zero value is a value: `replicas: 0`.
const keepZero = new Set(`
meta.v1.ObjectMeta.deletionGracePeriodSeconds meta.v1.OwnerReference.controller meta.v1.OwnerReference.blockOwnerDeletion
meta.v1.DeleteOptions.gracePeriodSeconds meta.v1.DeleteOptions.orphanDependents meta.v1.ListMeta.remainingItemCount
core.v1.PodSpec.terminationGracePeriodSeconds core.v1.PodSpec.activeDeadlineSeconds core.v1.PodSpec.automountServiceAccountToken
core.v1.PodSpec.shareProcessNamespace core.v1.PodSpec.priority core.v1.PodSpec.enableServiceLinks core.v1.PodSpec.setHostnameAsFQDN core.v1.PodSpec.hostUsers
core.v1.SecurityContext.privileged core.v1.SecurityContext.runAsUser core.v1.SecurityContext.runAsGroup core.v1.SecurityContext.runAsNonRoot
core.v1.SecurityContext.readOnlyRootFilesystem core.v1.SecurityContext.allowPrivilegeEscalation
core.v1.PodSecurityContext.runAsUser core.v1.PodSecurityContext.runAsGroup core.v1.PodSecurityContext.runAsNonRoot core.v1.PodSecurityContext.fsGroup
core.v1.WindowsSecurityContextOptions.hostProcess core.v1.Probe.terminationGracePeriodSeconds
core.v1.SecretVolumeSource.defaultMode core.v1.SecretVolumeSource.optional core.v1.ConfigMapVolumeSource.defaultMode core.v1.ConfigMapVolumeSource.optional
core.v1.KeyToPath.mode core.v1.ProjectedVolumeSource.defaultMode core.v1.ServiceAccountTokenProjection.expirationSeconds
core.v1.DownwardAPIVolumeSource.defaultMode core.v1.DownwardAPIVolumeFile.mode core.v1.SecretProjection.optional core.v1.ConfigMapProjection.optional
core.v1.CSIVolumeSource.readOnly core.v1.ClusterTrustBundleProjection.optional
core.v1.ConfigMapKeySelector.optional core.v1.SecretKeySelector.optional core.v1.ConfigMapEnvSource.optional core.v1.SecretEnvSource.optional
core.v1.Toleration.tolerationSeconds core.v1.TopologySpreadConstraint.minDomains
core.v1.ServiceSpec.allocateLoadBalancerNodePorts core.v1.ClientIPConfig.timeoutSeconds
core.v1.ServiceAccount.automountServiceAccountToken core.v1.ConfigMap.immutable core.v1.Secret.immutable core.v1.ContainerStatus.started
core.v1.ServicePort.port core.v1.EndpointPort.port core.v1.ReplicationControllerSpec.replicas core.v1.LinuxContainerUser.uid
apps.v1.DeploymentSpec.replicas apps.v1.DeploymentSpec.revisionHistoryLimit apps.v1.DeploymentSpec.progressDeadlineSeconds
apps.v1.ReplicaSetSpec.replicas apps.v1.StatefulSetSpec.replicas apps.v1.StatefulSetSpec.revisionHistoryLimit apps.v1.DaemonSetSpec.revisionHistoryLimit
apps.v1.RollingUpdateStatefulSetStrategy.partition apps.v1.DeploymentStatus.collisionCount apps.v1.DaemonSetStatus.collisionCount apps.v1.StatefulSetStatus.collisionCount
batch.v1.JobSpec.parallelism batch.v1.JobSpec.completions batch.v1.JobSpec.activeDeadlineSeconds batch.v1.JobSpec.backoffLimit
batch.v1.JobSpec.backoffLimitPerIndex batch.v1.JobSpec.maxFailedIndexes batch.v1.JobSpec.manualSelector batch.v1.JobSpec.ttlSecondsAfterFinished batch.v1.JobSpec.suspend
batch.v1.JobStatus.ready batch.v1.JobStatus.terminating
batch.v1.CronJobSpec.startingDeadlineSeconds batch.v1.CronJobSpec.suspend batch.v1.CronJobSpec.successfulJobsHistoryLimit batch.v1.CronJobSpec.failedJobsHistoryLimit
discovery.v1.EndpointConditions.ready discovery.v1.EndpointConditions.serving discovery.v1.EndpointConditions.terminating discovery.v1.EndpointPort.port
coordination.v1.LeaseSpec.leaseDurationSeconds coordination.v1.LeaseSpec.leaseTransitions
authentication.v1.TokenRequestSpec.expirationSeconds scheduling.v1.PriorityClass.value autoscaling.v1.ScaleSpec.replicas
`.split(/\s+/).filter(Boolean));

const short = (full: string): string => {
  const name = full.replace(/^\./, '');
  for (const [pkg, alias] of Object.entries(packages)) if (name.startsWith(`${pkg}.`) && !name.slice(pkg.length + 1).includes('.')) return `${alias}.${name.slice(pkg.length + 1)}`;
  throw new Error(`no package alias for ${name}`);
};
const scalar: Record<string, string> = { TYPE_STRING: 's', TYPE_INT32: 'i32', TYPE_INT64: 'i64', TYPE_BOOL: 'b', TYPE_BYTES: 'y' };
function typeOf(f: Field): string {
  if (f.type === 'TYPE_MESSAGE') return short(f.typeName!);
  const t = scalar[f.type];
  if (!t) throw new Error(`unsupported field type ${f.type}`);
  return t;
}

const rows: Record<string, string> = {};
for (const fd of files.values()) {
  const alias = packages[fd.package];
  if (!alias) continue;
  for (const m of fd.messageType ?? []) {
    const entries = new Map((m.nestedType ?? []).filter((n) => n.options?.mapEntry).map((n) => [`.${fd.package}.${m.name}.${n.name}`, n]));
    rows[`${alias}.${m.name}`] = (m.field ?? []).map((f) => {
      const repeated = f.label === 'LABEL_REPEATED';
      const entry = f.typeName ? entries.get(f.typeName) : undefined;
      const type = entry ? `{${typeOf(entry.field![0]!)}:${typeOf(entry.field![1]!)}}` : `${repeated ? '[]' : ''}${typeOf(f)}`;
      const matching = tags.filter((t) => t.number === f.number && t.name === f.name);
      const json = matching.find((t) => t.json && !t.inline && t.json !== f.name)?.json ?? f.name;
      let flags = matching.some((t) => t.inline) && f.type === 'TYPE_MESSAGE' ? '^' : '';
      const varint = !repeated && ['TYPE_INT32', 'TYPE_INT64', 'TYPE_BOOL'].includes(f.type);
      const neverOmitted = matching.length > 0 && matching.every((t) => !t.omitempty && !t.inline);
      if (keepZero.has(`${alias}.${m.name}.${json}`) || (varint && neverOmitted)) flags += '?';
      return `${f.number} ${json}${flags} ${type}`;
    }).join('|');
  }
}

const header = readFileSync(new URL('../src/rest/protobuf/tables.ts', import.meta.url), 'utf8').split('export const MESSAGES')[0];
process.stdout.write(`${header}export const MESSAGES: Readonly<Record<string, string>> = {\n${Object.keys(rows).sort().map((k) => `  '${k}': '${rows[k]}',`).join('\n')}\n};\n`);
