#!/usr/bin/env bash
# `npm run demo:ha`: what the demo needs, then the demo. Builds Keel, builds the images and
# serves them from the local registry on 127.0.0.1:5000 (the worker hosts pull the web app
# through it), then runs tools/ha-demo/src/main.ts with the arguments given
# (npm run demo:ha -- --keep, --workers 0, --dir …).
source "$(dirname "$0")/../scripts/common.sh"

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

step "HA demo"
npx tsx tools/ha-demo/src/main.ts "$@"
