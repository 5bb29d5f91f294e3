// What the kubelet needs of a container runtime: the CriClient methods it calls. Real
// nodes pass libs/cri's CriClient (containerd); hollow nodes pass the in-process
// HollowRuntime (hollow.ts), and unit tests of the pod worker use the same fake.
import type { CriClient } from '@keel/cri';

export type Runtime = Pick<
  CriClient,
  | 'version'
  | 'conditions'
  | 'updatePodCidr'
  | 'runPodSandbox'
  | 'stopPodSandbox'
  | 'removePodSandbox'
  | 'podSandboxStatus'
  | 'listPodSandbox'
  | 'createContainer'
  | 'startContainer'
  | 'stopContainer'
  | 'removeContainer'
  | 'listContainers'
  | 'containerStatus'
  | 'execSync'
  | 'exec'
  | 'attach'
  | 'portForward'
  | 'imageStatus'
  | 'pullImage'
  | 'reopenContainerLog'
>;
