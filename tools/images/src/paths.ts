// Where the local development tools keep their output: under the checkout's tmp/,
// in folders named keel-… so they are easy to find and remove.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const DEFAULT_IMAGES_DIR = join(REPO_ROOT, 'tmp', 'keel-images');
export const DEFAULT_REGISTRY_DIR = join(REPO_ROOT, 'tmp', 'keel-registry');
