// Builds the images Keel's examples and tests run, from files on this machine only:
// the pause image (our static C program), a busybox base (Debian's busybox-static),
// and small app images on top of it. Each becomes an OCI layout under `outDir/<name>`,
// ready for skopeo to push to the local registry. Same inputs, same digests.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Layer, type RunConfig, layerFromDir, writeLayout } from './oci';

export interface BuiltImage {
  /** Repository name without registry, e.g. `keel/web`. */
  name: string;
  tag: string;
  /** `name:tag`. */
  ref: string;
  layoutDir: string;
  /** The manifest digest. */
  digest: string;
}

const here = dirname(fileURLToPath(import.meta.url));
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The version of Debian's busybox-static, e.g. `1.35`, which tags the base image. */
function busyboxVersion(busybox: string): string {
  const banner = execFileSync(busybox, [], { encoding: 'utf8' }).split('\n')[0] ?? '';
  const match = /BusyBox v(\d+)\.(\d+)/.exec(banner);
  if (!match) throw new Error(`cannot read busybox version from "${banner}"`);
  return `${match[1]}.${match[2]}`;
}

function which(tool: string, hint: string): string {
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin']) {
    const path = join(dir, tool);
    try {
      execFileSync('test', ['-x', path]);
      return path;
    } catch {
      // not in this folder
    }
  }
  throw new Error(`${tool} not found: ${hint} (run tools/prereqs/install.sh)`);
}

function dir(root: string, path: string, mode = 0o755): void {
  mkdirSync(join(root, path), { recursive: true });
  chmodSync(join(root, path), mode);
}

function file(root: string, path: string, content: string | Buffer, mode = 0o644): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
  chmodSync(join(root, path), mode);
}

/** The busybox root filesystem: the binary, a link per applet, and the files a shell expects. */
function stageBusybox(root: string, busybox: string): void {
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'root', 'home', 'var', 'proc', 'sys', 'dev', 'run']) {
    dir(root, d);
  }
  dir(root, 'tmp', 0o1777);
  dir(root, 'root', 0o700);
  copyFileSync(busybox, join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  const applets = execFileSync(busybox, ['--list-full'], { encoding: 'utf8' })
    .split('\n')
    .filter((a) => a && a !== 'bin/busybox')
    .sort();
  for (const applet of applets) {
    mkdirSync(dirname(join(root, applet)), { recursive: true });
    symlinkSync('/bin/busybox', join(root, applet));
  }
  file(root, 'etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n');
  file(root, 'etc/group', 'root:x:0:\nnogroup:x:65534:\n');
}

/** The pause binary, compiled static and stripped so it runs in an empty root. */
function stagePause(root: string, work: string): void {
  const gcc = which('gcc', 'the pause image is compiled from C');
  const out = join(work, 'pause');
  // -s strips symbols (which would carry the temporary build path); no -g for the same reason.
  execFileSync(gcc, ['-static', '-O2', '-s', '-Wall', '-Werror', '-o', out, join(here, '..', 'pause', 'pause.c')]);
  file(root, 'pause', '', 0o755);
  copyFileSync(out, join(root, 'pause'));
  chmodSync(join(root, 'pause'), 0o755);
}

interface AppImage {
  name: string;
  tag: string;
  files?: Record<string, string>;
  run: RunConfig;
}

/** The small images examples and tests use, each one layer over the busybox base. */
const appImages: AppImage[] = [
  {
    name: 'keel/web',
    tag: '1.0',
    files: { 'www/index.html': 'hello from keel\n' },
    run: {
      Cmd: ['httpd', '-f', '-v', '-p', '8080', '-h', '/www'],
      Env: [PATH_ENV],
      ExposedPorts: { '8080/tcp': {} },
      WorkingDir: '/www',
    },
  },
  {
    name: 'keel/job-ok',
    tag: '1.0',
    run: {
      Cmd: ['sh', '-c', 'echo "job: working"; sleep 1; echo "job: done"'],
      Env: [PATH_ENV],
    },
  },
  {
    name: 'keel/job-fail',
    tag: '1.0',
    run: {
      Cmd: ['sh', '-c', 'echo "job: working"; sleep 1; echo "job: failed" >&2; exit 1'],
      Env: [PATH_ENV],
    },
  },
  {
    // Runs for CRASH_AFTER seconds, then exits 2: for restart policies and CrashLoopBackOff.
    name: 'keel/crasher',
    tag: '1.0',
    run: {
      Cmd: ['sh', '-c', 'echo "crasher: up for ${CRASH_AFTER}s"; sleep "$CRASH_AFTER"; echo "crasher: crashing" >&2; exit 2'],
      Env: [PATH_ENV, 'CRASH_AFTER=5'],
    },
  },
];

/** Builds every image into `outDir` (replacing what is there) and returns them. */
export async function buildImages(outDir: string): Promise<BuiltImage[]> {
  const out = resolve(outDir);
  mkdirSync(out, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'keel-images-'));
  try {
    const built: BuiltImage[] = [];
    const emit = (name: string, tag: string, layers: Layer[], run: RunConfig) => {
      const layoutDir = join(out, name.replace('/', '_'));
      const digest = writeLayout(layoutDir, tag, layers, run);
      built.push({ name, tag, ref: `${name}:${tag}`, layoutDir, digest });
    };

    const pauseRoot = join(work, 'pause-root');
    dir(pauseRoot, '.');
    stagePause(pauseRoot, work);
    emit('keel/pause', '3.9', [layerFromDir(pauseRoot)], { Entrypoint: ['/pause'] });

    const busybox = which('busybox', 'the base image is Debian busybox-static');
    const baseRoot = join(work, 'busybox-root');
    dir(baseRoot, '.');
    stageBusybox(baseRoot, busybox);
    const base = layerFromDir(baseRoot);
    emit('keel/busybox', busyboxVersion(busybox), [base], { Cmd: ['sh'], Env: [PATH_ENV] });

    for (const app of appImages) {
      const layers = [base];
      if (app.files) {
        const appRoot = join(work, `${app.name.replace('/', '_')}-root`);
        dir(appRoot, '.');
        for (const [path, content] of Object.entries(app.files)) {
          dir(appRoot, dirname(path));
          file(appRoot, path, content);
        }
        layers.push(layerFromDir(appRoot));
      }
      emit(app.name, app.tag, layers, app.run);
    }
    return built;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
