// @keel/pki: a cluster's CA, serving and client certificates, ServiceAccount keys and kubeconfigs.
export {
  clusterIdentities,
  createCa,
  createClusterPki,
  createServiceAccountKeys,
  issueCert,
  kubeconfig,
  KUBELET_CLIENT,
  type CertFiles,
  type ClusterPki,
  type IssueOptions,
} from './pki';
