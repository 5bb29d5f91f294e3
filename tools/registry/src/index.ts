// @keel/tools-registry: the local OCI registry (start, stop by recorded PID, push with skopeo).
export {
  DEFAULT_REGISTRY_ADDR,
  pushImage,
  registryDigest,
  runningRegistry,
  startRegistry,
  stopRegistry,
  type Registry,
  type RegistryOptions,
} from './registry';
