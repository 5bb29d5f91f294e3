// @keel/tools-kubectl: real kubectl binaries (1.33 from npm, 1.20 from Debian) for API tests,
// a runner for them, and the kubeconfig they read.
export { DEFAULT_KUBECTL_CACHE, ensureKubectl, kubectlClientVersion, type KubectlVersion } from './kubectl';
export { runKubectl, writeKubeconfig, type KubeconfigOptions, type KubectlResult, type RunKubectlOptions } from './run';
