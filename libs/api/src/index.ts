// @keel/api: Kubernetes object types, scheme, defaulting, validation and API errors. Pure: no I/O.
export * from './errors';
