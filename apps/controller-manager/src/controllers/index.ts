// The controllers this process can run, by the names `--controllers` takes (Kubernetes'
// names where they exist), with the ones on by default.
import type { Controller, ControllerContext } from '../runtime/controller';
import { DaemonSetController } from './daemonset';
import { DeploymentController } from './deployment';
import { EndpointsController } from './endpoints';
import { GarbageCollector } from './garbage-collector';
import { JobController } from './job';
import { NamespaceController } from './namespace';
import { NodeLifecycleController } from './node-lifecycle';
import { ReplicaSetController } from './replicaset';
import { RootCAPublisher } from './root-ca-publisher';
import { ServiceAccountController } from './serviceaccount';

export const controllerFactories: Record<string, (ctx: ControllerContext) => Controller> = {
  deployment: (ctx) => new DeploymentController(ctx),
  replicaset: (ctx) => new ReplicaSetController(ctx),
  daemonset: (ctx) => new DaemonSetController(ctx),
  job: (ctx) => new JobController(ctx),
  nodelifecycle: (ctx) => new NodeLifecycleController(ctx),
  endpoints: (ctx) => new EndpointsController(ctx),
  serviceaccount: (ctx) => new ServiceAccountController(ctx),
  namespace: (ctx) => new NamespaceController(ctx),
  'root-ca-cert-publisher': (ctx) => new RootCAPublisher(ctx),
  garbagecollector: (ctx) => new GarbageCollector(ctx),
};

/**
 * `--controllers`: `*` is every controller, `name` adds one, `-name` removes one
 * (e.g. `*,-nodelifecycle`). Unknown names are an error.
 */
export function selectControllers(spec: string): string[] {
  const all = Object.keys(controllerFactories);
  const items = spec.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    const name = item.replace(/^-/, '');
    if (name !== '*' && !all.includes(name)) throw new Error(`unknown controller "${name}" (known: ${all.join(', ')})`);
  }
  const enabled = new Set<string>();
  if (items.includes('*')) all.forEach((n) => enabled.add(n));
  for (const item of items) {
    if (item.startsWith('-')) enabled.delete(item.slice(1));
    else if (item !== '*') enabled.add(item);
  }
  return all.filter((n) => enabled.has(n));
}
