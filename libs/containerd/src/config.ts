// The files a node's containerd runs from, as pure functions of the node's settings:
// containerd's config.toml (version 2, containerd 1.6), the CNI conflist (bridge with
// host-local IPAM, then portmap) and the registry mirror's hosts.toml. Every path lives
// under the node's own `keel-…` folder; nothing here touches the disk.
// The settings that matter on this machine are explained in RUNTIME.md; the ones that
// are not obvious carry a comment where they are written.
import { basename, join, resolve } from 'node:path';

export interface NodeRuntimeSettings {
  /** The node's folder; its last path element must start with `keel-`. */
  dir: string;
  /** The image every sandbox runs (our pause image in the local registry). */
  sandboxImage: string;
  /** The node's pod CIDR, an IPv4 /8–/28 such as 10.244.0.0/24. */
  podCidr: string;
  /** The CNI bridge's name (≤ 15 characters, starting with `keel-`). */
  bridge: string;
  /** Where the stream server listens: the node's IP (127.0.0.1 for a node on the host). */
  streamAddress: string;
  streamPort: number;
  /**
   * Registry mirrors: `host` as it appears in image references (127.0.0.1:5000) and the
   * URL containerd should reach it by (the same on the host; another inside a netns).
   */
  registries: { host: string; endpoint: string }[];
  /** Where the CNI plugins are (Debian: /usr/lib/cni). */
  cniBinDir?: string;
  /** containerd's log level. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

/** Every path a node's runtime uses, derived from its folder. */
export interface NodePaths {
  dir: string;
  config: string;
  socket: string;
  ttrpcSocket: string;
  root: string;
  state: string;
  runcRoot: string;
  cniConfDir: string;
  cniConflist: string;
  ipamDataDir: string;
  registryConfigDir: string;
  pidFile: string;
  logFile: string;
  /** What the launcher recorded at start, for stop and cleanup (node.json). */
  recordFile: string;
}

export function nodePaths(dirArg: string): NodePaths {
  const dir = resolve(dirArg);
  if (!basename(dir).startsWith('keel-')) throw new Error(`node dir must be named keel-…, got ${dir}`);
  return {
    dir,
    config: join(dir, 'containerd.toml'),
    socket: join(dir, 'containerd.sock'),
    ttrpcSocket: join(dir, 'containerd.sock.ttrpc'),
    root: join(dir, 'root'),
    state: join(dir, 'state'),
    runcRoot: join(dir, 'runc'),
    cniConfDir: join(dir, 'cni', 'net.d'),
    cniConflist: join(dir, 'cni', 'net.d', '10-keel.conflist'),
    ipamDataDir: join(dir, 'cni', 'ipam'),
    registryConfigDir: join(dir, 'certs.d'),
    pidFile: join(dir, 'containerd.pid'),
    logFile: join(dir, 'containerd.log'),
    recordFile: join(dir, 'node.json'),
  };
}

/** The CNI network name: unique per node, so portmap's rule comments say whose they are. */
export function cniNetworkName(dir: string): string {
  return basename(resolve(dir));
}

/** Parses a.b.c.d/len, checking it is a usable IPv4 network. */
export function parseCidr(cidr: string): { base: number; prefix: number } {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix < 8 || prefix > 28) throw new Error(`unusable pod CIDR ${cidr} (want /8 to /28)`);
  const addr = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  if (addr % size !== 0) throw new Error(`pod CIDR ${cidr} has host bits set`);
  return { base: addr, prefix };
}

export function ipToString(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** The bridge's own address in the pod CIDR (the first host), which pods use as gateway. */
export function gatewayOf(cidr: string): string {
  return ipToString(parseCidr(cidr).base + 1);
}

/** True when two IPv4 CIDRs share any address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidrLoose(a);
  const y = parseCidrLoose(b);
  const xEnd = x.base + 2 ** (32 - x.prefix);
  const yEnd = y.base + 2 ** (32 - y.prefix);
  return x.base < yEnd && y.base < xEnd;
}

function parseCidrLoose(cidr: string): { base: number; prefix: number } {
  const [ip, len] = cidr.includes('/') ? cidr.split('/') : [cidr, '32'];
  const octets = (ip ?? '').split('.').map(Number);
  const prefix = Number(len);
  const addr = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  return { base: addr - (addr % size), prefix };
}

function checkSettings(s: NodeRuntimeSettings): void {
  parseCidr(s.podCidr);
  if (!/^keel-[A-Za-z0-9_.-]{1,10}$/.test(s.bridge)) {
    throw new Error(`bridge name must be keel-… and at most 15 characters, got "${s.bridge}"`);
  }
  if (!(s.streamPort > 0 && s.streamPort < 65536)) throw new Error(`bad stream port ${s.streamPort}`);
}

const q = (value: string) => JSON.stringify(value); // TOML basic strings share JSON's escapes

/** containerd's config.toml for the node. */
export function renderContainerdConfig(s: NodeRuntimeSettings): string {
  checkSettings(s);
  const p = nodePaths(s.dir);
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `# Written by tools/containerd for the node in ${p.dir}. Do not edit: regenerated at start.
version = 2
root = ${q(p.root)}
state = ${q(p.state)}
oom_score = 0
# The opt plugin would create /opt/containerd; nothing of ours lives outside the node dir.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = ${q(p.socket)}
  max_recv_message_size = 16777216
  max_send_message_size = 16777216

[ttrpc]
  address = ${q(p.ttrpcSocket)}

[debug]
  level = ${q(s.logLevel ?? 'info')}

[${cri}]
  sandbox_image = ${q(s.sandboxImage)}
  # runc cannot lower oom_score_adj here (no CAP_SYS_RESOURCE): without this every sandbox
  # fails with "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  stream_server_address = ${q(s.streamAddress)}
  stream_server_port = ${q(String(s.streamPort))}
  enable_tls_streaming = false
  disable_tcp_service = true
  # Pod network namespaces under our state dir, not /var/run/netns.
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  enable_selinux = false
  max_container_log_line_size = 16384

  [${cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [${cri}.containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = ${q(p.runcRoot)}

  [${cri}.cni]
    bin_dir = ${q(s.cniBinDir ?? '/usr/lib/cni')}
    conf_dir = ${q(p.cniConfDir)}
    max_conf_num = 1

  [${cri}.registry]
    config_path = ${q(p.registryConfigDir)}
`;
}

/** The CNI conflist: a bridge with host-local IPAM over the pod CIDR, then portmap. */
export function renderCniConflist(s: NodeRuntimeSettings): string {
  checkSettings(s);
  const p = nodePaths(s.dir);
  const conf = {
    cniVersion: '0.4.0',
    name: cniNetworkName(s.dir),
    plugins: [
      {
        type: 'bridge',
        bridge: s.bridge,
        isGateway: true,
        // Nothing is masqueraded out of the machine: pod traffic keeps its pod source.
        ipMasq: false,
        // A pod reaching itself through its own service needs the hairpin.
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: s.podCidr, gateway: gatewayOf(s.podCidr) }]],
          // Pods send everything to the host (where service DNAT happens); the launcher's
          // egress guard drops pod traffic that would leave the machine.
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: p.ipamDataDir,
        },
      },
      // snat lets the host reach its own host ports through loopback.
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
  return `${JSON.stringify(conf, null, 2)}\n`;
}

/** hosts.toml for one registry mirror: plain HTTP, pull and resolve only. */
export function renderHostsToml(registry: { host: string; endpoint: string }): string {
  return `# Written by tools/containerd: ${registry.host} is served by ${registry.endpoint}.
server = ${q(registry.endpoint)}

[host.${q(registry.endpoint)}]
  capabilities = ["pull", "resolve"]
  skip_verify = true
`;
}

/** Every file the node's runtime needs, as path → content. */
export function renderNodeFiles(s: NodeRuntimeSettings): Map<string, string> {
  const p = nodePaths(s.dir);
  const files = new Map<string, string>();
  files.set(p.config, renderContainerdConfig(s));
  files.set(p.cniConflist, renderCniConflist(s));
  for (const r of s.registries) files.set(join(p.registryConfigDir, r.host, 'hosts.toml'), renderHostsToml(r));
  return files;
}
