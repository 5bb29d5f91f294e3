import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalJson, layerFromDir, MediaTypes, writeLayout } from './oci';

const work = mkdtempSync(join(tmpdir(), 'keel-oci-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function stage(name: string, content: string): string {
  const root = join(work, name);
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc', 'motd'), content);
  return root;
}

const blob = (layout: string, digest: string) => readFileSync(join(layout, 'blobs', 'sha256', digest.slice(7)));

describe('OCI layouts', () => {
  it('sorts object keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: null } })).toBe('{"a":{"c":null,"d":[3,1]},"b":1}');
  });

  it('gives the same layer for the same files, whatever their mtimes', () => {
    const a = layerFromDir(stage('a', 'hi\n'));
    const b = layerFromDir(stage('b', 'hi\n'));
    expect(b.diffId).toBe(a.diffId);
    expect(b.gz.equals(a.gz)).toBe(true);
    expect(layerFromDir(stage('c', 'other\n')).diffId).not.toBe(a.diffId);
  });

  it('writes a layout whose manifest, config and index point at each other by digest', () => {
    const layer = layerFromDir(stage('d', 'x'));
    const layout = join(work, 'layout');
    const digest = writeLayout(layout, '1.0', [layer], { Cmd: ['sh'] });
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    expect(index.manifests[0].digest).toBe(digest);
    expect(index.manifests[0].annotations['org.opencontainers.image.ref.name']).toBe('1.0');
    const manifestBytes = blob(layout, digest);
    expect(`sha256:${createHash('sha256').update(manifestBytes).digest('hex')}`).toBe(digest);
    const manifest = JSON.parse(manifestBytes.toString());
    expect(manifest.layers[0]).toMatchObject({ mediaType: MediaTypes.layerGzip, size: layer.gz.length });
    const config = JSON.parse(blob(layout, manifest.config.digest).toString());
    expect(config.rootfs.diff_ids).toEqual([layer.diffId]);
    expect(config.created).toBe('1970-01-01T00:00:00Z');
    // The diff_id is the digest of the uncompressed tar inside the layer blob.
    const tar = gunzipSync(blob(layout, manifest.layers[0].digest));
    expect(`sha256:${createHash('sha256').update(tar).digest('hex')}`).toBe(layer.diffId);
  });
});
