import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ApiError } from '../errors';
import {
  SelectorParseError,
  formatLabelSelector,
  labelSelectorAsQuery,
  labelSelectorMatches,
  parseLabelSelector,
  parseLabelSelectorParam,
  selectorFromSet,
} from './labels';

describe('label selector query strings', () => {
  const labels = { app: 'web', tier: 'front', env: 'a', has: '', version: '3' };

  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['tier!=front', false],
    ['env in (a,b)', true],
    ['env in (b,c)', false],
    ['env notin (b,c)', true],
    ['missing notin (b)', true],
    ['!legacy', true],
    ['!app', false],
    ['has', true],
    ['legacy', false],
    ['app=web,tier!=db,env in (a,b),!legacy,has', true],
    ['app=web,tier=back', false],
    ['version>2', true],
    ['version<3', false],
    ['has=', true],
    ['  app = web ,  env  in ( a , b )  ', true],
    ['env in (a,)', true],
  ])('%j matches: %s', (selector, expected) => {
    expect(parseLabelSelector(selector).matches(labels)).toBe(expected);
  });

  it('prints requirements sorted by key', () => {
    expect(parseLabelSelector('tier!=db,app=web,env in (b,a),!legacy,has').toString()).toBe('app=web,env in (a,b),has,!legacy,tier!=db');
  });

  it.each([
    ['app=web,', "unable to parse requirement: found end of string, expected: identifier"],
    ['=web', "unable to parse requirement: found '=', expected: identifier"],
    ['app web', "unable to parse requirement: found 'web', expected: '=', '!=', '==', 'in', 'notin', '>', '<' or ','"],
    ['env in a,b', "unable to parse requirement: found 'a', expected: '(' after 'in' or 'notin'"],
    ['env in (a b)', "unable to parse requirement: found 'b', expected: ',' or ')' in a set of values"],
    ['env in ()', "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty"],
    ['!', "unable to parse requirement: found end of string, expected: identifier after '!'"],
    ['app=web)', "unable to parse requirement: found ')', expected: ',' or end of string"],
    ['version>x', `values: Invalid value: ["x"]: for 'Gt', 'Lt' operators, exactly one value is required and it must be an integer`],
  ])('%j fails: %s', (selector, message) => {
    expect(() => parseLabelSelector(selector)).toThrow(new SelectorParseError(message));
  });

  it('names a bad key or value', () => {
    expect(() => parseLabelSelector('bad key=x')).toThrow(/found 'key'/);
    expect(() => parseLabelSelector('-app=x')).toThrow(/key: Invalid value: "-app": name part must consist of alphanumeric characters/);
    expect(() => parseLabelSelector('app=-x')).toThrow(/values\[0\]\[app\]: Invalid value: "-x": a valid label must be an empty string/);
  });

  it('turns parse errors into 400s for query parameters', () => {
    try {
      parseLabelSelectorParam('app in');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).httpStatus).toBe(400);
      expect((err as ApiError).message).toContain('unable to parse requirement');
    }
  });
});

describe('structured label selectors', () => {
  it('ANDs matchLabels and matchExpressions', () => {
    const selector = {
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In' as const, values: ['front', 'edge'] },
        { key: 'legacy', operator: 'DoesNotExist' as const },
        { key: 'env', operator: 'NotIn' as const, values: ['prod'] },
        { key: 'team', operator: 'Exists' as const },
      ],
    };
    expect(labelSelectorMatches(selector, { app: 'web', tier: 'edge', team: 'x' })).toBe(true);
    expect(labelSelectorMatches(selector, { app: 'web', tier: 'edge', team: 'x', env: 'prod' })).toBe(false);
    expect(labelSelectorMatches(selector, { app: 'web', tier: 'edge' })).toBe(false);
    expect(formatLabelSelector(selector)).toBe('app=web,env notin (prod),!legacy,team,tier in (edge,front)');
  });

  it('a nil selector selects nothing, an empty one everything', () => {
    expect(labelSelectorMatches(undefined, { a: 'b' })).toBe(false);
    expect(labelSelectorMatches({}, { a: 'b' })).toBe(true);
    expect(labelSelectorAsQuery({}).isEmpty()).toBe(true);
  });

  it('refuses bad operators and empty value sets', () => {
    expect(() => labelSelectorAsQuery({ matchExpressions: [{ key: 'a', operator: 'Near' as never }] })).toThrow('"Near" is not a valid label selector operator');
    expect(() => labelSelectorAsQuery({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] })).toThrow(/values set can't be empty/);
  });

  it('selects exactly a label set', () => {
    expect(selectorFromSet({ app: 'web' }).matches({ app: 'web', x: 'y' })).toBe(true);
    expect(selectorFromSet({ app: 'web' }).toString()).toBe('app=web');
  });
});

describe('round trip', () => {
  const key = fc.constantFrom('app', 'tier', 'example.com/team', 'k8s.io/x', 'v');
  const value = fc.constantFrom('', 'a', 'web', 'b-1', 'X_y.z');
  const requirement = fc.oneof(
    fc.tuple(key, fc.constantFrom('=', '==', '!='), value).map(([k, op, v]) => `${k}${op}${v}`),
    fc.tuple(key, fc.constantFrom('in', 'notin'), fc.array(value.filter((v) => v !== ''), { minLength: 1, maxLength: 3 })).map(([k, op, vs]) => `${k} ${op} (${vs.join(',')})`),
    key,
    key.map((k) => `!${k}`),
  );
  const labels = fc.dictionary(key, value, { maxKeys: 4 });

  it('printing and parsing again selects the same label sets (property)', () => {
    fc.assert(
      fc.property(fc.array(requirement, { maxLength: 4 }), labels, (parts, set) => {
        const query = parseLabelSelector(parts.join(','));
        const again = parseLabelSelector(query.toString());
        expect(again.toString()).toBe(query.toString());
        expect(again.matches(set)).toBe(query.matches(set));
      }),
      { numRuns: 500 },
    );
  });
});
