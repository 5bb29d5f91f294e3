// Writes the files of a configMap, secret, downwardAPI or projected volume so a container
// never sees a half-written set (kubelet's AtomicWriter layout): the files go into a fresh
// hidden folder `..<time>.<random>`, the symlink `..data` is swapped to it with one rename,
// and each top-level name is a symlink through `..data`. A token refresh is thus one rename,
// and a reader sees the old token or the new one, never an empty file. Nothing is written
// when the content and modes are already what the volume holds.
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface AtomicFile {
  /** Relative to the volume's folder. */
  path: string;
  content: string | Uint8Array;
  mode: number;
}

const DATA = '..data';
const DATA_TMP = '..data_tmp';

const bytes = (c: string | Uint8Array) => (typeof c === 'string' ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength));

/** Whether the folder `..data` points at holds exactly `files`, byte for byte and mode for mode. */
function unchanged(dir: string, files: AtomicFile[]): boolean {
  const data = join(dir, DATA);
  if (!existsSync(data)) return false;
  for (const f of files) {
    const file = join(data, f.path);
    try {
      if ((statSync(file).mode & 0o7777) !== f.mode || !readFileSync(file).equals(bytes(f.content))) return false;
    } catch {
      return false;
    }
  }
  // No file more than asked for.
  const count = (d: string): number => readdirSync(d, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? count(join(d, e.name)) : 1), 0);
  if (count(data) !== files.length) return false;
  // The top-level links are in place and nothing else is.
  return topLevel(files).every((name) => isLink(join(dir, name))) && visibleEntries(dir).length === topLevel(files).length;
}

function topLevel(files: AtomicFile[]): string[] {
  return [...new Set(files.map((f) => f.path.split('/')[0]!))];
}

function visibleEntries(dir: string): string[] {
  return readdirSync(dir).filter((n) => !n.startsWith('..'));
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Makes `dir` hold exactly `files`; answers whether anything was written. */
export function writeAtomically(dir: string, files: AtomicFile[]): boolean {
  mkdirSync(dir, { recursive: true });
  if (unchanged(dir, files)) return false;
  const previous = isLink(join(dir, DATA)) ? readlinkSync(join(dir, DATA)) : undefined;
  const stamp = new Date().toISOString().replace(/[-:]/g, '_').replace('T', '_').replace('Z', '');
  const fresh = mkdtempSync(join(dir, `..${stamp}.`));
  for (const f of files) {
    const file = join(fresh, f.path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, f.content);
    chmodSync(file, f.mode);
  }
  // Readers hold no lock: the swap is a rename of a symlink over `..data`.
  rmSync(join(dir, DATA_TMP), { force: true });
  symlinkSync(fresh.slice(dir.length + 1), join(dir, DATA_TMP));
  renameSync(join(dir, DATA_TMP), join(dir, DATA));
  const names = new Set(topLevel(files));
  for (const name of visibleEntries(dir)) if (!names.has(name) || !isLink(join(dir, name))) rmSync(join(dir, name), { recursive: true, force: true });
  for (const name of names) if (!isLink(join(dir, name))) symlinkSync(join(DATA, name), join(dir, name));
  if (previous && previous !== fresh.slice(dir.length + 1)) rmSync(join(dir, previous), { recursive: true, force: true });
  // A crash between the steps above leaves stray stamped folders: any not behind `..data` go.
  const current = readlinkSync(join(dir, DATA));
  for (const name of readdirSync(dir)) if (name.startsWith('..') && name !== DATA && name !== current) rmSync(join(dir, name), { recursive: true, force: true });
  return true;
}
