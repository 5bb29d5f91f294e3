#!/usr/bin/env bash
# The README's run command: installs what a local cluster needs, builds Keel, builds the
# images and serves them from the local registry on 127.0.0.1:5000, then `keel up` starts
# the cluster parts that are built and reports every part.
source "$(dirname "$0")/common.sh"

# Debian first: npm ci compiles node-pty with node-gyp (g++, make, python3).
ensure_debian_packages
ensure_npm_packages

step "build"
npx nx run-many -t build --output-style=static

step "images"
npx tsx tools/images/src/cli.ts build

step "local registry"
npx tsx tools/registry/src/cli.ts start
npx tsx tools/registry/src/cli.ts push

step "keel up"
node dist/apps/cli/main.js up "$@"
