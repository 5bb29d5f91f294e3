// discovery.k8s.io/v1: EndpointSlice — a Service's endpoints in slices of at most 100, the
// form kube-proxy (and Keel's proxy) consumes. Each slice names its Service in the
// `kubernetes.io/service-name` label.

import type { ObjectReference, Protocol } from './core';
import type { KubeObject } from './meta';

export interface EndpointConditions {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export interface Endpoint {
  addresses: string[];
  conditions?: EndpointConditions;
  hostname?: string;
  targetRef?: ObjectReference;
  nodeName?: string;
  zone?: string;
}

export interface EndpointSlicePort {
  name?: string;
  protocol?: Protocol;
  port?: number;
  appProtocol?: string;
}

export interface EndpointSlice extends KubeObject {
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints: Endpoint[];
  ports?: EndpointSlicePort[];
}
