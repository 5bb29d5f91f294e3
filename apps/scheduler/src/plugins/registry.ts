// The one registry: every plugin Keel ships, by the name configs use. A factory takes the
// plugin's args from the config's pluginConfig (most take none).

import type { AnyPlugin } from '../framework/interfaces';
import { newImageLocality } from './image-locality';
import { newInterPodAffinity } from './inter-pod-affinity';
import { newNodeAffinity } from './node-affinity';
import { newNodeName } from './node-name';
import { newNodePorts } from './node-ports';
import { newNodeResourcesBalancedAllocation } from './node-resources-balanced-allocation';
import { newNodeResourcesFit } from './node-resources-fit';
import { type LeastAllocatedArgs, newNodeResourcesLeastAllocated } from './node-resources-least-allocated';
import { newNodeUnschedulable } from './node-unschedulable';
import { newPodTopologySpread, type PodTopologySpreadArgs } from './pod-topology-spread';
import { newTaintToleration } from './taint-toleration';

export type PluginFactory = (args: unknown) => AnyPlugin;

export const registry: Readonly<Record<string, PluginFactory>> = {
  NodeName: () => newNodeName(),
  NodeUnschedulable: () => newNodeUnschedulable(),
  NodeResourcesFit: () => newNodeResourcesFit(),
  NodePorts: () => newNodePorts(),
  TaintToleration: () => newTaintToleration(),
  NodeAffinity: () => newNodeAffinity(),
  InterPodAffinity: () => newInterPodAffinity(),
  PodTopologySpread: (args) => newPodTopologySpread((args ?? {}) as PodTopologySpreadArgs),
  NodeResourcesLeastAllocated: (args) => newNodeResourcesLeastAllocated((args ?? {}) as LeastAllocatedArgs),
  NodeResourcesBalancedAllocation: () => newNodeResourcesBalancedAllocation(),
  ImageLocality: () => newImageLocality(),
};
