// @keel/tools-kubectl: real kubectl binaries (1.33 from npm, 1.20 from Debian) for API tests.
export { DEFAULT_KUBECTL_CACHE, ensureKubectl, kubectlClientVersion, type KubectlVersion } from './kubectl';
