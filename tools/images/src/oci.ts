// Writes OCI image layouts from plain folders, byte for byte the same for the same inputs.
// A layer is a GNU tar of a staged root filesystem with every entry's owner, group and
// mtime pinned and names sorted, gzipped by Node's zlib with no timestamp; the config
// carries a fixed creation time. So the layer digests, the config digest and the manifest
// digest depend only on the files, never on when or where the build ran.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const MediaTypes = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** The moment every image claims to be made at: the epoch, so rebuilding changes nothing. */
const EPOCH = '1970-01-01T00:00:00Z';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** A layer ready to go into a layout: its gzipped bytes and the digest of the plain tar. */
export interface Layer {
  gz: Buffer;
  diffId: string;
}

/** What the image runs: the parts of the OCI config's `config` object we use. */
export interface RunConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  User?: string;
  StopSignal?: string;
  Labels?: Record<string, string>;
}

function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Tars a staged root filesystem deterministically and gzips it. */
export function layerFromDir(rootfs: string): Layer {
  const tar = execFileSync(
    'tar',
    [
      '--sort=name',
      '--numeric-owner',
      '--owner=0',
      '--group=0',
      '--mtime=@0',
      '--format=gnu',
      '-C',
      rootfs,
      '-cf',
      '-',
      '.',
    ],
    { maxBuffer: 512 * 1024 * 1024 },
  );
  // level 9 and zlib's fixed header (mtime 0, no name) keep the compressed bytes stable.
  return { gz: gzipSync(tar, { level: 9 }), diffId: sha256(tar) };
}

function writeBlob(layoutDir: string, data: Buffer | string): Descriptor & { mediaType: '' } {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const digest = sha256(bytes);
  writeFileSync(join(layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length)), bytes);
  return { mediaType: '', digest, size: bytes.length };
}

/** JSON with sorted keys and no whitespace, so equal objects serialise to equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * Writes a fresh OCI layout at `layoutDir` holding one image, tagged `tag`.
 * Returns the manifest digest: the image's identity in any registry it is pushed to.
 */
export function writeLayout(layoutDir: string, tag: string, layers: Layer[], run: RunConfig): string {
  rmSync(layoutDir, { recursive: true, force: true });
  mkdirSync(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(layoutDir, 'oci-layout'), canonicalJson({ imageLayoutVersion: '1.0.0' }));

  const layerDescs = layers.map((l) => ({ ...writeBlob(layoutDir, l.gz), mediaType: MediaTypes.layerGzip }));
  const config = {
    created: EPOCH,
    architecture: 'amd64',
    os: 'linux',
    config: run,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({ created: EPOCH, created_by: 'keel tools/images' })),
  };
  const configDesc = { ...writeBlob(layoutDir, canonicalJson(config)), mediaType: MediaTypes.config };
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.manifest,
    config: configDesc,
    layers: layerDescs,
  };
  const manifestDesc = { ...writeBlob(layoutDir, canonicalJson(manifest)), mediaType: MediaTypes.manifest };
  const index = {
    schemaVersion: 2,
    mediaType: MediaTypes.index,
    manifests: [{ ...manifestDesc, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  };
  writeFileSync(join(layoutDir, 'index.json'), canonicalJson(index));
  return manifestDesc.digest;
}
