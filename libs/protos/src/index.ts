// @keel/protos: loading Keel's .proto files and the types generated from them.
// Types live under `@keel/protos/<path>` (generated at build time by `nx codegen protos`).
export { loadProto, loaderOptions, protosRoot } from './load';
