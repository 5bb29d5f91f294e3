import { describe, expect, it } from 'vitest';
import { mdTable } from './markdown';

describe('mdTable', () => {
  it('writes a header, an alignment row and escapes pipes in cells', () => {
    const t = mdTable(['name', 'n'], [['a|b', '1'], ['c', '22']], ['left', 'right']);
    expect(t.split('\n')).toEqual(['| name | n |', '|---|---:|', '| a\\|b | 1 |', '| c | 22 |']);
  });
  it('left-aligns every column by default', () => {
    expect(mdTable(['x', 'y'], []).split('\n')[1]).toBe('|---|---|');
  });
});
