// Defaulting for apps/v1 (SetDefaults_Deployment, _ReplicaSet, _DaemonSet): replicas 1,
// RollingUpdate with 25%/25% for Deployments and 1/0 for DaemonSets, ten old revisions kept,
// a 600 s progress deadline; the pod template's spec gets the Pod defaults too.

import type { DaemonSet, Deployment, ReplicaSet } from '../types/apps';
import type { PodTemplateSpec } from '../types/core';
import { defaultPodSpec } from './core';

export function defaultPodTemplate(template: PodTemplateSpec | undefined): void {
  if (template?.spec) defaultPodSpec(template.spec);
}

export function defaultDeployment(deployment: Deployment): void {
  const spec = deployment.spec;
  if (!spec) return;
  spec.replicas ??= 1;
  const strategy = (spec.strategy ??= {});
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const rollingUpdate = (strategy.rollingUpdate ??= {});
    rollingUpdate.maxUnavailable ??= '25%';
    rollingUpdate.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  defaultPodTemplate(spec.template);
}

export function defaultReplicaSet(replicaSet: ReplicaSet): void {
  const spec = replicaSet.spec;
  if (!spec) return;
  spec.replicas ??= 1;
  defaultPodTemplate(spec.template);
}

export function defaultDaemonSet(daemonSet: DaemonSet): void {
  const spec = daemonSet.spec;
  if (!spec) return;
  const strategy = (spec.updateStrategy ??= {});
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const rollingUpdate = (strategy.rollingUpdate ??= {});
    rollingUpdate.maxUnavailable ??= 1;
    rollingUpdate.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  defaultPodTemplate(spec.template);
}
