// The one place that loads .proto files at run time. The options here must match the
// ones tools/scripts/codegen.sh gives proto-loader-gen-types, so the generated types
// describe exactly the objects this loader produces:
//  - keepCase: snake_case field names stay as the wire schema has them;
//  - defaults: zero values (enum 0, exit_code 0, empty strings) are present, not dropped;
//  - longs as strings: int64 (revisions, lease IDs, nanosecond timestamps) keep every bit;
//  - enums as strings, oneofs named.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const loaderOptions: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

const marker = join('grpc', 'health', 'v1', 'health.proto');
let cachedRoot: string | undefined;

/**
 * The protos/ folder: $KEEL_PROTOS_DIR, else the nearest `protos/` above this module
 * (found from source in tests and from dist/ after a build alike).
 */
export function protosRoot(): string {
  if (cachedRoot) return cachedRoot;
  const fromEnv = process.env['KEEL_PROTOS_DIR'];
  if (fromEnv) {
    if (!existsSync(join(fromEnv, marker))) {
      throw new Error(`KEEL_PROTOS_DIR=${fromEnv} does not hold Keel's protos (no ${marker})`);
    }
    return (cachedRoot = resolve(fromEnv));
  }
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'protos');
    if (existsSync(join(candidate, marker))) return (cachedRoot = candidate);
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the protos/ folder; set KEEL_PROTOS_DIR');
    dir = parent;
  }
}

/** Loads proto files (paths relative to protos/) and returns the gRPC package tree, typed as T. */
export function loadProto<T>(...files: string[]): T {
  const definition = protoLoader.loadSync(files, { ...loaderOptions, includeDirs: [protosRoot()] });
  return grpc.loadPackageDefinition(definition) as unknown as T;
}
