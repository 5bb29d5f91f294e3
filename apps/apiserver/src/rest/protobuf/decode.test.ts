// Bodies captured from kubectl 1.33 (auth can-i, can-i --list, create token, auth whoami),
// read back as the JSON they stand for.
import { describe, expect, it } from 'vitest';
import { decodeProtobufBody } from './protobuf';

const hex = (s: string) => Buffer.from(s, 'hex');

describe('decodeProtobufBody', () => {
  it('reads a SelfSubjectAccessReview with resource attributes', () => {
    // kubectl auth can-i get pods/log -n nsx --subresource=log
    const body = hex(
      '6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a656374416363657373526576696577123e0a100a0012001a0022002a0032003800420012200a1e0a036e737812036765741a0022002a04706f647332036c6f673a036c6f671a08080012001a0020001a002200',
    );
    expect(decodeProtobufBody(body)).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { namespace: 'nsx', verb: 'get', group: '', version: '', resource: 'pods', subresource: 'log', name: 'log' } },
    });
  });

  it('reads a SelfSubjectAccessReview with non-resource attributes', () => {
    const body = hex(
      '6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a656374416363657373526576696577122c0a100a0012001a0022002a00320038004200120e120c0a052f6c6f677312036765741a08080012001a0020001a002200',
    );
    expect(decodeProtobufBody(body).spec).toEqual({ nonResourceAttributes: { path: '/logs', verb: 'get' } });
  });

  it('reads a SelfSubjectRulesReview and a SelfSubjectReview', () => {
    const rules = hex(
      '6b3873000a310a17617574686f72697a6174696f6e2e6b38732e696f2f7631121653656c665375626a65637452756c6573526576696577121f0a100a0012001a0022002a0032003800420012050a036e73781a04180022001a002200',
    );
    expect(decodeProtobufBody(rules)).toEqual({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'nsx' } });
    const whoami = hex(
      '6b3873000a2d0a1861757468656e7469636174696f6e2e6b38732e696f2f7631121153656c665375626a656374526576696577121a0a100a0012001a0022002a0032003800420012060a040a0012001a002200',
    );
    expect(decodeProtobufBody(whoami)).toEqual({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  });

  it('reads a TokenRequest with audiences, duration and a bound pod', () => {
    // kubectl create token robot --audience aud1 --duration 20m --bound-object-kind Pod --bound-object-name pp --bound-object-uid uu
    const body = hex(
      '6b3873000a280a1861757468656e7469636174696f6e2e6b38732e696f2f7631120c546f6b656e5265717565737412360a100a0012001a0022002a00320038004200121c0a04617564311a110a03506f64120276311a0270702202757520b0091a040a0012001a002200',
    );
    expect(decodeProtobufBody(body)).toEqual({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: ['aud1'], expirationSeconds: 1200, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'pp', uid: 'uu' } },
    });
  });

  it('refuses what it does not read', () => {
    expect(() => decodeProtobufBody(Buffer.from('{"kind":"Pod"}'))).toThrow('does not start with the k8s magic bytes');
    expect(() => decodeProtobufBody(hex('6b3873000a0a0a0276311204506f6473'))).toThrow('protobuf bodies are read only for the review kinds and TokenRequest, not v1 Pods');
    expect(() => decodeProtobufBody(hex('6b3873000aff'))).toThrow('protobuf');
  });
});
