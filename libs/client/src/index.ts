// @keel/client: how Keel's own parts (scheduler, controllers, agents) reach cluster state —
// the apiserver's keel.v1 gRPC API, typed per resource — and the machinery of a controller
// built on it: informers (list + watch into an indexed cache), a rate-limited work queue,
// a reconcile runner, Lease-based leader election and an event recorder. Time comes from
// an injectable Clock, so all of it runs deterministically in unit tests.
export * from './status';
export * from './transport';
export * from './client';
export * from './clock';
export * from './rate-limiter';
export * from './workqueue';
export * from './reconcile';
export * from './cache';
export * from './informer';
export * from './fake';
export * from './leader-election';
export * from './events';
export * from './informer-factory';
export * from './credentials';
export * from './endpoints';
