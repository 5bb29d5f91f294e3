// @keel/api: Kubernetes object types, scheme, defaulting, validation, selectors, Table
// printing and API errors. Pure: no I/O, no clocks, no randomness — time comes in as `now`.
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
export * from './duration';
export * from './table';
export * from './strategy';
export * from './scale';
export * from './envelopes';
export * from './deletion';
export * from './pod-subresources';
export * from './patch';
