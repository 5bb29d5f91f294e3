// @keel/api: Kubernetes object types, scheme, defaulting, validation, selectors, Table
// printing and API errors. Pure: no I/O, no clocks, no randomness — time comes in as `now`.
//
// A write flows through it in this order (what kube-apiserver does, and what Keel's apiserver
// is expected to do):
//   scheme.byGVR / lookup            which resource the URL names
//   decodeObject                     JSON types checked, nulls dropped        → 400
//   prepareForCreate / ForUpdate     defaults, uid, timestamps, generation, status kept
//   (prepareForStatusUpdate, applyScale for the subresources)
//   validateCreate / Update / StatusUpdate (assertValid* throw)             → 422
//   storeKey                         where it lives in etcd
// and a DELETE through planDeletion; reads through selectors, toList and toTable.
export * from './errors';
export * from './types';
export * from './intstr';
export * from './quantity';
export * from './resources';
export * from './scheme';
export * from './decode';
export * from './objects';
export * from './secrets';
export * from './base64';
export * from './defaults';
export * from './validation';
export * from './selectors/labels';
export * from './selectors/fields';
export * from './selectors/nodes';
export * from './conditions';
export * from './pods';
export * from './default-tolerations';
export * from './duration';
export * from './table';
export * from './strategy';
export * from './scale';
export * from './envelopes';
export * from './deletion';
export * from './pod-subresources';
export * from './binding';
export * from './events';
export * from './patch';
