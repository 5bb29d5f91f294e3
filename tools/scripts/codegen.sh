#!/usr/bin/env bash
# Generates TypeScript types for every .proto under protos/ into libs/protos/src/generated,
# offline, with the same options the runtime loader uses (libs/protos/src/load.ts).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/libs/protos/src/generated"
rm -rf "$out"
mkdir -p "$out"
cd "$root/protos"
mapfile -t files < <(find . -name '*.proto' -printf '%P\n' | sort)
"$root/node_modules/.bin/proto-loader-gen-types" \
  --keepCase --longs=String --enums=String --defaults --oneofs --bytes=Buffer \
  --grpcLib=@grpc/grpc-js -I "$root/protos" -O "$out" "${files[@]}" >/dev/null
echo "generated types for ${#files[@]} proto files -> libs/protos/src/generated"
