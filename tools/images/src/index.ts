// @keel/tools-images: building Keel's images as OCI layouts, offline and reproducibly.
export { buildImages, type BuiltImage } from './build';
export { canonicalJson, layerFromDir, writeLayout, MediaTypes } from './oci';
export { DEFAULT_IMAGES_DIR, DEFAULT_REGISTRY_DIR, REPO_ROOT } from './paths';
