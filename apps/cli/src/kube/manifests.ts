// Reading manifests for apply, create, delete -f: files, folders (their .yaml, .yml and
// .json files in name order; -R descends), `-` for stdin; multi-document YAML, JSON, and
// `kind: List` documents expanded into their items. Each object keeps where it came from so
// errors can say which document was wrong.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObj } from '../print/objects';

export interface Manifest {
  obj: KubeObj;
  source: string;
}

export class ManifestError extends Error {}

export function manifestFiles(path: string, recursive: boolean): string[] {
  if (path === '-') return ['-'];
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new ManifestError(`the path "${path}" does not exist`);
  }
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  for (const entry of readdirSync(path).sort()) {
    const full = join(path, entry);
    if (statSync(full).isDirectory()) {
      if (recursive) out.push(...manifestFiles(full, true));
    } else if (['.yaml', '.yml', '.json'].includes(extname(entry))) {
      out.push(full);
    }
  }
  return out;
}

export function parseManifestText(text: string, source: string): Manifest[] {
  const out: Manifest[] = [];
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    if (doc.errors.length) throw new ManifestError(`error parsing ${source} (document ${i + 1}): ${doc.errors[0]!.message.split('\n')[0]}`);
    const value = doc.toJSON() as unknown;
    if (value === null || value === undefined) return;
    if (typeof value !== 'object' || Array.isArray(value)) throw new ManifestError(`error parsing ${source} (document ${i + 1}): not an object`);
    const obj = value as KubeObj;
    if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj['items'])) {
      for (const item of obj['items'] as KubeObj[]) out.push(check({ obj: item, source }));
    } else {
      out.push(check({ obj, source: list.length > 1 ? `${source} (document ${i + 1})` : source }));
    }
  });
  return out;
}

function check(m: Manifest): Manifest {
  if (!m.obj.apiVersion) throw new ManifestError(`error validating ${m.source}: apiVersion not set`);
  if (!m.obj.kind) throw new ManifestError(`error validating ${m.source}: kind not set`);
  if (!m.obj.metadata?.name && !m.obj.metadata?.['generateName']) throw new ManifestError(`error validating ${m.source}: metadata.name not set`);
  return m;
}

export function readManifests(paths: string[], recursive: boolean, stdin: () => string = () => readFileSync(0, 'utf8')): Manifest[] {
  if (paths.length === 0) throw new ManifestError('must specify -f FILENAME (a file, a folder, or - for stdin)');
  const out: Manifest[] = [];
  for (const p of paths) {
    const files = manifestFiles(p, recursive);
    for (const f of files) out.push(...parseManifestText(f === '-' ? stdin() : readFileSync(f, 'utf8'), f === '-' ? 'stdin' : f));
  }
  if (out.length === 0) throw new ManifestError(`no objects passed to apply (read ${paths.join(', ')})`);
  return out;
}
