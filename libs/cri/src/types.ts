// The runtime.v1 message types Keel's code handles, re-exported from the generated
// protos so callers import everything CRI from @keel/cri. `X` is what we send (optional
// fields), `X__Output` what we receive (every field present: the loader keeps defaults).
export type { AttachRequest, AttachRequest__Output } from '@keel/protos/runtime/v1/AttachRequest';
export type { Capability, Capability__Output } from '@keel/protos/runtime/v1/Capability';
export type { Container, Container__Output } from '@keel/protos/runtime/v1/Container';
export type { ContainerConfig, ContainerConfig__Output } from '@keel/protos/runtime/v1/ContainerConfig';
export type { ContainerFilter, ContainerFilter__Output } from '@keel/protos/runtime/v1/ContainerFilter';
export type { ContainerMetadata, ContainerMetadata__Output } from '@keel/protos/runtime/v1/ContainerMetadata';
export type { ContainerState, ContainerState__Output } from '@keel/protos/runtime/v1/ContainerState';
export type { ContainerStats, ContainerStats__Output } from '@keel/protos/runtime/v1/ContainerStats';
export type { ContainerStatus, ContainerStatus__Output } from '@keel/protos/runtime/v1/ContainerStatus';
export type { ContainerStatusResponse, ContainerStatusResponse__Output } from '@keel/protos/runtime/v1/ContainerStatusResponse';
export type { DNSConfig, DNSConfig__Output } from '@keel/protos/runtime/v1/DNSConfig';
export type { ExecRequest, ExecRequest__Output } from '@keel/protos/runtime/v1/ExecRequest';
export type { ExecSyncResponse, ExecSyncResponse__Output } from '@keel/protos/runtime/v1/ExecSyncResponse';
export type { Image, Image__Output } from '@keel/protos/runtime/v1/Image';
export type { ImageSpec, ImageSpec__Output } from '@keel/protos/runtime/v1/ImageSpec';
export type { KeyValue, KeyValue__Output } from '@keel/protos/runtime/v1/KeyValue';
export type { LinuxContainerResources, LinuxContainerResources__Output } from '@keel/protos/runtime/v1/LinuxContainerResources';
export type { LinuxContainerSecurityContext, LinuxContainerSecurityContext__Output } from '@keel/protos/runtime/v1/LinuxContainerSecurityContext';
export type { LinuxPodSandboxConfig, LinuxPodSandboxConfig__Output } from '@keel/protos/runtime/v1/LinuxPodSandboxConfig';
export type { Mount, Mount__Output } from '@keel/protos/runtime/v1/Mount';
export type { NamespaceMode, NamespaceMode__Output } from '@keel/protos/runtime/v1/NamespaceMode';
export type { PodSandbox, PodSandbox__Output } from '@keel/protos/runtime/v1/PodSandbox';
export type { PodSandboxConfig, PodSandboxConfig__Output } from '@keel/protos/runtime/v1/PodSandboxConfig';
export type { PodSandboxFilter, PodSandboxFilter__Output } from '@keel/protos/runtime/v1/PodSandboxFilter';
export type { PodSandboxMetadata, PodSandboxMetadata__Output } from '@keel/protos/runtime/v1/PodSandboxMetadata';
export type { PodSandboxState, PodSandboxState__Output } from '@keel/protos/runtime/v1/PodSandboxState';
export type { PodSandboxStatus, PodSandboxStatus__Output } from '@keel/protos/runtime/v1/PodSandboxStatus';
export type { PodSandboxStatusResponse, PodSandboxStatusResponse__Output } from '@keel/protos/runtime/v1/PodSandboxStatusResponse';
export type { PortMapping, PortMapping__Output } from '@keel/protos/runtime/v1/PortMapping';
export type { Protocol, Protocol__Output } from '@keel/protos/runtime/v1/Protocol';
export type { RuntimeCondition, RuntimeCondition__Output } from '@keel/protos/runtime/v1/RuntimeCondition';
export type { StatusResponse, StatusResponse__Output } from '@keel/protos/runtime/v1/StatusResponse';
export type { VersionResponse, VersionResponse__Output } from '@keel/protos/runtime/v1/VersionResponse';
export type { ImageFsInfoResponse, ImageFsInfoResponse__Output } from '@keel/protos/runtime/v1/ImageFsInfoResponse';
export type { FilesystemUsage, FilesystemUsage__Output } from '@keel/protos/runtime/v1/FilesystemUsage';
