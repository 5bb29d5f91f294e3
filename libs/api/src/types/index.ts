// Every API type, by group. Kinds are named as Kubernetes names them; no two groups here
// share a kind name, so one flat namespace of types is enough.
export * from './meta';
export * from './core';
export * from './apps';
export * from './batch';
export * from './discovery';
export * from './coordination';
export * from './rbac';
export * from './scheduling';
export * from './autoscaling';
export * from './policy';
