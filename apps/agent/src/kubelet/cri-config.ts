// What the agent asks CRI for, as pure functions of the pod: the sandbox config (metadata,
// hostname, DNS, labels that let a restarted agent find its pods again, log directory,
// host port mappings, cgroup parent) and each container's config (command, args, env,
// working dir, mounts, Linux resources from requests and limits, security context). PID
// namespace is CONTAINER: CRI's zero value is POD, which would let containers of a pod see
// each other's processes unless shareProcessNamespace asks for it.
import { join } from 'node:path';
import type { Container, Pod } from '@keel/api';
import type { ContainerConfig, KeyValue, LinuxContainerResources, Mount, PodSandboxConfig } from '@keel/cri';
import { quantityValue } from './env';

/** Labels on every sandbox and container the agent makes (Kubernetes' own names). */
export const Labels = {
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  podUid: 'io.kubernetes.pod.uid',
  containerName: 'io.kubernetes.container.name',
  /** Marks what this agent manages, so GC never touches anything else on the runtime. */
  managedBy: 'io.keel.managed-by',
} as const;

export const ManagedBy = 'keel-agent';

/** Annotations the agent reads back after a restart. */
export const Annotations = {
  restartCount: 'io.kubernetes.container.restartCount',
  gracePeriod: 'io.kubernetes.pod.terminationGracePeriod',
} as const;

export interface NodeSettings {
  nodeName: string;
  rootDir: string;
  /** Pods' cgroups go under `<cgroupParent>/pod<uid>`. */
  cgroupParent: string;
  /** Resolvers for pods with dnsPolicy ClusterFirst (none: the node's, as Default). */
  clusterDNS: string[];
  clusterDomain: string;
}

export function podLogDir(rootDir: string, pod: Pod): string {
  return join(rootDir, 'logs', `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`);
}

/** The container's log file relative to the pod's log directory, per attempt. */
export function containerLogPath(name: string, attempt: number): string {
  return join(name, `${attempt}.log`);
}

export function podCgroupParent(settings: NodeSettings, uid: string): string {
  return `${settings.cgroupParent}/pod${uid}`;
}

function podLabels(pod: Pod): Record<string, string> {
  return {
    ...pod.metadata.labels,
    [Labels.podName]: pod.metadata.name!,
    [Labels.podNamespace]: pod.metadata.namespace!,
    [Labels.podUid]: pod.metadata.uid!,
    [Labels.managedBy]: ManagedBy,
  };
}

export function sandboxConfig(pod: Pod, settings: NodeSettings, attempt: number): PodSandboxConfig {
  const spec = pod.spec!;
  const ns = pod.metadata.namespace!;
  const dns =
    spec.dnsPolicy === 'None'
      ? { servers: spec.dnsConfig?.nameservers ?? [], searches: spec.dnsConfig?.searches ?? [], options: [] as string[] }
      : (spec.dnsPolicy ?? 'ClusterFirst') === 'ClusterFirst' && settings.clusterDNS.length
        ? {
            servers: settings.clusterDNS,
            searches: [`${ns}.svc.${settings.clusterDomain}`, `svc.${settings.clusterDomain}`, settings.clusterDomain],
            options: ['ndots:5'],
          }
        : undefined;
  if (dns && spec.dnsConfig) {
    dns.servers = [...dns.servers, ...(spec.dnsConfig.nameservers ?? [])].filter((s, i, a) => a.indexOf(s) === i);
    dns.searches = [...dns.searches, ...(spec.dnsConfig.searches ?? [])].filter((s, i, a) => a.indexOf(s) === i);
    dns.options = [...dns.options, ...(spec.dnsConfig.options ?? []).map((o) => (o.value ? `${o.name}:${o.value}` : o.name ?? ''))];
  }
  const ports = [...(spec.initContainers ?? []), ...spec.containers]
    .flatMap((c) => c.ports ?? [])
    .filter((p) => p.hostPort)
    .map((p) => ({ protocol: p.protocol ?? 'TCP', container_port: p.containerPort, host_port: p.hostPort!, host_ip: p.hostIP ?? '' }));
  const sc = spec.securityContext;
  return {
    metadata: { name: pod.metadata.name!, namespace: ns, uid: pod.metadata.uid!, attempt },
    hostname: (spec.hostname ?? pod.metadata.name!).slice(0, 63),
    log_directory: podLogDir(settings.rootDir, pod),
    ...(dns ? { dns_config: dns } : {}),
    port_mappings: ports,
    labels: podLabels(pod),
    annotations: { ...pod.metadata.annotations, [Annotations.gracePeriod]: String(spec.terminationGracePeriodSeconds ?? 30) },
    linux: {
      cgroup_parent: podCgroupParent(settings, pod.metadata.uid!),
      security_context: {
        namespace_options: {
          network: spec.hostNetwork ? 'NODE' : 'POD',
          pid: spec.hostPID ? 'NODE' : spec.shareProcessNamespace ? 'POD' : 'CONTAINER',
          ipc: spec.hostIPC ? 'NODE' : 'POD',
        },
        ...(sc?.runAsUser !== undefined ? { run_as_user: { value: String(sc.runAsUser) } } : {}),
        ...(sc?.runAsGroup !== undefined ? { run_as_group: { value: String(sc.runAsGroup) } } : {}),
        supplemental_groups: (sc?.supplementalGroups ?? []).map(String),
      },
      sysctls: Object.fromEntries((sc?.sysctls ?? []).map((s) => [s.name, s.value])),
    },
  };
}

/** cpu shares from the request (min 2), quota from the limit (period 100 ms), memory limit in bytes. */
export function linuxResources(container: Container): LinuxContainerResources {
  const req = container.resources?.requests ?? {};
  const lim = container.resources?.limits ?? {};
  const cpuRequest = req['cpu'] ?? lim['cpu'];
  const shares = cpuRequest ? Math.max(2, Math.floor(quantityValue(cpuRequest) * 1024)) : 2;
  const out: LinuxContainerResources = { cpu_shares: String(shares) };
  if (lim['cpu']) {
    out.cpu_period = '100000';
    out.cpu_quota = String(Math.max(1000, Math.ceil(quantityValue(lim['cpu']) * 100_000)));
  }
  if (lim['memory']) out.memory_limit_in_bytes = String(Math.floor(quantityValue(lim['memory'])));
  return out;
}

export function containerConfig(
  pod: Pod,
  container: Container,
  attempt: number,
  env: KeyValue[],
  mounts: Mount[],
  imageRef: string,
): ContainerConfig {
  const sc = container.securityContext ?? {};
  const psc = pod.spec?.securityContext ?? {};
  const runAsUser = sc.runAsUser ?? psc.runAsUser;
  const runAsGroup = sc.runAsGroup ?? psc.runAsGroup;
  return {
    metadata: { name: container.name, attempt },
    image: { image: imageRef },
    command: container.command ?? [],
    args: container.args ?? [],
    working_dir: container.workingDir ?? '',
    envs: env,
    mounts,
    labels: {
      [Labels.podName]: pod.metadata.name!,
      [Labels.podNamespace]: pod.metadata.namespace!,
      [Labels.podUid]: pod.metadata.uid!,
      [Labels.containerName]: container.name,
      [Labels.managedBy]: ManagedBy,
    },
    annotations: { [Annotations.restartCount]: String(attempt) },
    log_path: containerLogPath(container.name, attempt),
    stdin: container.stdin ?? false,
    stdin_once: container.stdinOnce ?? false,
    tty: container.tty ?? false,
    linux: {
      resources: linuxResources(container),
      security_context: {
        privileged: sc.privileged ?? false,
        readonly_rootfs: sc.readOnlyRootFilesystem ?? false,
        capabilities: { add_capabilities: sc.capabilities?.add ?? [], drop_capabilities: sc.capabilities?.drop ?? [] },
        no_new_privs: sc.allowPrivilegeEscalation === false,
        namespace_options: {
          network: pod.spec?.hostNetwork ? 'NODE' : 'POD',
          pid: pod.spec?.hostPID ? 'NODE' : pod.spec?.shareProcessNamespace ? 'POD' : 'CONTAINER',
          ipc: pod.spec?.hostIPC ? 'NODE' : 'POD',
        },
        ...(runAsUser !== undefined ? { run_as_user: { value: String(runAsUser) } } : {}),
        ...(runAsGroup !== undefined ? { run_as_group: { value: String(runAsGroup) } } : {}),
        supplemental_groups: (psc.supplementalGroups ?? []).map(String),
      },
    },
  };
}
