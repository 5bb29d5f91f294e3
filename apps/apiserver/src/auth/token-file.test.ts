// The static token file in kube-apiserver's CSV format.
import { describe, expect, it } from 'vitest';
import { parseTokenFile } from './token-file';

describe('parseTokenFile', () => {
  it('reads token, user, uid and quoted groups', () => {
    const { tokens, warnings } = parseTokenFile('abc,alice,1001,"dev,ops"\n\nxyz,bob,1002\nq,carol,1003,admins\n');
    expect(tokens.get('abc')).toEqual({ name: 'alice', uid: '1001', groups: ['dev', 'ops'] });
    expect(tokens.get('xyz')).toEqual({ name: 'bob', uid: '1002', groups: [] });
    expect(tokens.get('q')).toEqual({ name: 'carol', uid: '1003', groups: ['admins'] });
    expect(warnings).toEqual([]);
  });

  it('keeps the later line of a duplicate token, with a warning', () => {
    const { tokens, warnings } = parseTokenFile('t,first,1\nt,second,2\n');
    expect(tokens.get('t')?.name).toBe('second');
    expect(warnings).toEqual(['duplicate token found in token file line 2; the later line wins']);
  });

  it('reads quotes inside quoted fields and CRLF lines', () => {
    const { tokens } = parseTokenFile('"a,b",user,"u""1",g\r\n');
    expect(tokens.get('a,b')).toEqual({ name: 'user', uid: 'u"1', groups: ['g'] });
  });

  it('names the line of a malformed record', () => {
    expect(() => parseTokenFile('ok,u,1\nonly,two\n', 'tokens.csv')).toThrow('tokens.csv line 2: must have at least 3 columns (token, user name, uid), found 2');
    expect(() => parseTokenFile(',u,1\n')).toThrow('line 1: empty token');
    expect(() => parseTokenFile('t,,1\n')).toThrow('line 1: empty user name');
    expect(() => parseTokenFile('t,"u,1\n')).toThrow('extraneous or missing " in quoted field');
    expect(() => parseTokenFile('t,u"x,1\n')).toThrow('bare " in non-quoted field');
  });
});
