// Protobuf bodies read back as JSON: bodies captured from kubectl 1.33 (auth can-i, can-i
// --list, create token, auth whoami), and hand-built wire bytes for the encodings kubectl's
// generators use (maps, packed and unpacked repeated fields, Quantity, IntOrString, Time,
// inline structs, pointer zeros) and for what must be refused.
import { describe, expect, it } from 'vitest';
import { decodeKubernetesProtobuf, decodeMessage, goDuration, knowsMessage } from './decode';
import { MESSAGES } from './tables';

const hex = (s: string) => Buffer.from(s, 'hex');

// A tiny encoder, for building wire bytes by hand.
function varint(n: bigint | number): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? byte | 0x80 : byte);
  } while (v);
  return out;
}
const key = (n: number, wire: number) => varint((n << 3) | wire);
const vi = (n: number, v: bigint | number) => [...key(n, 0), ...varint(v)];
const ld = (n: number, bytes: number[] | Uint8Array) => [...key(n, 2), ...varint(bytes.length), ...bytes];
const str = (n: number, s: string) => ld(n, [...Buffer.from(s, 'utf8')]);
const msg = (n: number, ...parts: number[][]) => ld(n, parts.flat());
const entry = (n: number, k: string, v: number[]) => msg(n, str(1, k), v);
const body = (apiVersion: string, kind: string, ...object: number[][]) =>
  Buffer.from([0x6b, 0x38, 0x73, 0x00, ...msg(1, str(1, apiVersion), str(2, kind)), ...msg(2, ...object), ...str(3, ''), ...str(4, '')]);
// What Go writes for an ObjectMeta with only a name (every non-pointer field, zero or not).
const meta = (name: string, ...more: number[][]) => msg(1, str(1, name), str(2, ''), str(3, ''), str(4, ''), str(5, ''), str(6, ''), vi(7, 0), msg(8), ...more);

describe('decodeKubernetesProtobuf: bodies kubectl 1.33 sent', () => {
  it('reads a SelfSubjectAccessReview with resource attributes', () => {
    // kubectl auth can-i get pods/log -n nsx --subresource=log
    const raw = hex(
      '6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a656374416363657373526576696577123e0a100a0012001a0022002a0032003800420012200a1e0a036e737812036765741a0022002a04706f647332036c6f673a036c6f671a08080012001a0020001a002200',
    );
    expect(decodeKubernetesProtobuf(raw)).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: {},
      spec: { resourceAttributes: { namespace: 'nsx', verb: 'get', resource: 'pods', subresource: 'log', name: 'log' } },
      // Go's JSON never omits `allowed`, so its zero is kept.
      status: { allowed: false },
    });
  });

  it('reads a SelfSubjectAccessReview with non-resource attributes', () => {
    const raw = hex(
      '6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a656374416363657373526576696577122c0a100a0012001a0022002a00320038004200120e120c0a052f6c6f677312036765741a08080012001a0020001a002200',
    );
    expect(decodeKubernetesProtobuf(raw).spec).toEqual({ nonResourceAttributes: { path: '/logs', verb: 'get' } });
  });

  it('reads a SelfSubjectRulesReview and a SelfSubjectReview', () => {
    const rules = hex(
      '6b3873000a310a17617574686f72697a6174696f6e2e6b38732e696f2f7631121653656c665375626a65637452756c6573526576696577121f0a100a0012001a0022002a0032003800420012050a036e73781a04180022001a002200',
    );
    expect(decodeKubernetesProtobuf(rules)).toMatchObject({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'nsx' } });
    const whoami = hex(
      '6b3873000a2d0a1861757468656e7469636174696f6e2e6b38732e696f2f7631121153656c665375626a656374526576696577121a0a100a0012001a0022002a0032003800420012060a040a0012001a002200',
    );
    expect(decodeKubernetesProtobuf(whoami)).toEqual({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {}, status: { userInfo: {} } });
  });

  it('reads a TokenRequest with audiences, duration and a bound pod', () => {
    // kubectl create token robot --audience aud1 --duration 20m --bound-object-kind Pod --bound-object-name pp --bound-object-uid uu
    const raw = hex(
      '6b3873000a280a1861757468656e7469636174696f6e2e6b38732e696f2f7631120c546f6b656e5265717565737412360a100a0012001a0022002a00320038004200121c0a04617564311a110a03506f64120276311a0270702202757520b0091a040a0012001a002200',
    );
    expect(decodeKubernetesProtobuf(raw)).toMatchObject({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      // The proto names this field `uID`; JSON, and so the decoder, `uid`.
      spec: { audiences: ['aud1'], expirationSeconds: 1200, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'pp', uid: 'uu' } },
    });
  });
});

describe('decodeKubernetesProtobuf: hand-built bodies', () => {
  it('reads a Deployment: pointer zero kept, non-pointer zeros dropped, IntOrString, Quantity maps, inline probe handler', () => {
    const container = msg(
      2,
      str(1, 'web'),
      str(2, 'keel/web:1.0'),
      str(3, 'sh'),
      str(3, '-c'),
      msg(6, str(1, ''), vi(2, 0), vi(3, 8080), str(4, 'TCP'), str(5, '')),
      msg(8, entry(1, 'cpu', msg(2, str(1, '250m'))), entry(2, 'memory', msg(2, str(1, '64Mi')))),
      // readinessProbe: ProbeHandler (inline) with httpGet {path, port: IntOrString string "http"}
      msg(11, msg(1, msg(2, str(1, '/healthz'), msg(2, vi(1, 1), vi(2, 0), str(3, 'http')))), vi(2, 0), vi(3, 1)),
      vi(16, 0),
    );
    const raw = body(
      'apps/v1',
      'Deployment',
      meta('web', entry(11, 'app', str(2, 'web'))),
      msg(
        2,
        vi(1, 0), // replicas: 0 (a pointer: kept)
        msg(2, entry(1, 'app', str(2, 'web'))),
        msg(3, msg(1, entry(11, 'app', str(2, 'web'))), msg(2, container, vi(4, 30))),
        msg(4, str(1, 'RollingUpdate'), msg(2, msg(1, vi(1, 0), vi(2, 0)), msg(2, vi(1, 1), vi(2, 0), str(3, '25%')))),
        vi(5, 0),
        vi(7, 0),
      ),
      msg(3, vi(1, 0), vi(2, 0)),
    );
    expect(decodeKubernetesProtobuf(raw)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'keel/web:1.0',
                command: ['sh', '-c'],
                ports: [{ containerPort: 8080, protocol: 'TCP' }],
                resources: { limits: { cpu: '250m' }, requests: { memory: '64Mi' } },
                readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, timeoutSeconds: 1 },
              },
            ],
            terminationGracePeriodSeconds: 30,
          },
        },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
      },
      status: {},
    });
  });

  it('reads bytes maps as base64, a creation time as RFC 3339, an empty embedded message as {}', () => {
    const raw = body(
      'v1',
      'Secret',
      meta('s', msg(8, vi(1, 1_700_000_000), vi(2, 5))),
      entry(2, 'a', ld(2, [...Buffer.from('b')])),
      entry(2, 'empty', []),
      str(3, 'Opaque'),
      vi(5, 0), // immutable: false, a pointer
    );
    expect(decodeKubernetesProtobuf(raw)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', creationTimestamp: '2023-11-14T22:13:20Z' },
      immutable: false,
      data: { a: 'Yg==', empty: '' },
      type: 'Opaque',
    });
    const volume = decodeMessage('core.v1.Volume', Buffer.from([...str(1, 'scratch'), ...msg(2, msg(2))]));
    expect(volume).toEqual({ name: 'scratch', emptyDir: {} });
  });

  it('reads repeated numbers packed and unpacked alike, negative numbers, and merges a repeated embedded message', () => {
    // batch/v1 PodFailurePolicyOnExitCodesRequirement.values (3): repeated int32.
    const unpacked = decodeMessage('batch.v1.PodFailurePolicyOnExitCodesRequirement', Buffer.from([...str(2, 'In'), ...vi(3, 1), ...vi(3, 42)]));
    const packed = decodeMessage('batch.v1.PodFailurePolicyOnExitCodesRequirement', Buffer.from([...str(2, 'In'), ...ld(3, [...varint(1), ...varint(42)])]));
    expect(unpacked).toEqual({ operator: 'In', values: [1, 42] });
    expect(packed).toEqual(unpacked);
    expect(decodeMessage('core.v1.Toleration', Buffer.from([...str(1, 'k'), ...vi(5, -1), ...vi(5, 0)]))).toEqual({ key: 'k', tolerationSeconds: 0 });
    expect(decodeMessage('core.v1.Toleration', Buffer.from(vi(5, -7)))).toEqual({ tolerationSeconds: -7 });
    // spec (2) split in two parts: protobuf merges them.
    const job = decodeMessage('batch.v1.Job', Buffer.from([...msg(2, vi(1, 3)), ...msg(2, vi(2, 5))]));
    expect(job).toEqual({ spec: { parallelism: 3, completions: 5 } });
  });

  it('refuses an unknown field number naming the message and where it was', () => {
    const raw = body('v1', 'ConfigMap', meta('c'), entry(2, 'a', str(2, 'b')), msg(2, msg(99)));
    expect(() => decodeKubernetesProtobuf(body('v1', 'Pod', msg(2, msg(2, str(1, 'c'), vi(99, 1)))))).toThrow(
      'protobuf: spec.containers[0]: field number 99 of core.v1.Container is not known to this server',
    );
    expect(() => decodeKubernetesProtobuf(raw)).toThrow('field number 99 of a core.v1.ConfigMap.data map entry is not known');
  });

  it('refuses a wrong wire type, truncation, kinds it has no table for, and a body without the magic', () => {
    expect(() => decodeMessage('core.v1.Container', Buffer.from(vi(1, 5)))).toThrow('expected length-delimited (2)');
    expect(() => decodeMessage('core.v1.Container', Buffer.from([0x0a, 0x05, 0x61]))).toThrow('truncated field');
    expect(() => decodeKubernetesProtobuf(Buffer.from('{"kind":"Pod"}'))).toThrow('does not start with the k8s magic bytes');
    expect(() => decodeKubernetesProtobuf(body('example.com/v1', 'Widget'))).toThrow(
      'protobuf bodies of example.com/v1 Widget are not readable by this server; send application/json',
    );
    expect(() => decodeKubernetesProtobuf(hex('6b3873000aff'))).toThrow('protobuf');
  });

  it('reads DeleteOptions sent under any version', () => {
    expect(decodeKubernetesProtobuf(body('v1', 'DeleteOptions', vi(1, 0), str(4, 'Background')))).toEqual({
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      gracePeriodSeconds: 0,
      propagationPolicy: 'Background',
    });
  });
});

describe('goDuration', () => {
  it('writes durations as Go does', () => {
    expect(goDuration(0)).toBe('0s');
    expect(goDuration(3.6e12)).toBe('1h0m0s');
    expect(goDuration(90e9)).toBe('1m30s');
    expect(goDuration(1.5e9)).toBe('1.5s');
    expect(goDuration(300e6)).toBe('300ms');
  });
});

describe('the field tables', () => {
  it('are well formed: unique numbers and names, known types, every referenced message present', () => {
    for (const [message, row] of Object.entries(MESSAGES)) {
      const fields = row.split('|').filter(Boolean).map((f) => f.split(' '));
      for (const f of fields) expect(f, `${message}: ${f.join(' ')}`).toHaveLength(3);
      const numbers = fields.map((f) => Number(f[0]));
      expect(new Set(numbers).size, message).toBe(numbers.length);
      expect(numbers.every((n) => Number.isInteger(n) && n > 0), message).toBe(true);
      for (const [, , type] of fields) {
        for (const ref of type!.replace(/^\[\]/, '').replace(/^\{|\}$/g, '').split(':')) {
          if (!['s', 'i32', 'i64', 'b', 'y'].includes(ref)) expect(knowsMessage(ref), `${message} refers to ${ref}`).toBe(true);
        }
      }
    }
    // Every kind kubectl's generators send is there.
    for (const m of ['core.v1.Namespace', 'apps.v1.Deployment', 'core.v1.ConfigMap', 'core.v1.Secret', 'core.v1.Service', 'core.v1.ServiceAccount', 'batch.v1.Job', 'rbac.v1.Role', 'rbac.v1.ClusterRole', 'rbac.v1.RoleBinding', 'rbac.v1.ClusterRoleBinding', 'scheduling.v1.PriorityClass', 'authentication.v1.TokenRequest']) {
      expect(knowsMessage(m), m).toBe(true);
    }
  });
});
