// @keel/tools-containerd: the containerd command (src/main.ts); the launcher is @keel/containerd, shared with keel up.
export * from '@keel/containerd';
