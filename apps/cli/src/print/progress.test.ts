import { describe, expect, it } from 'vitest';
import { colourful, Spinner, withSpinner } from './progress';

const stream = (isTTY: boolean) => {
  const written: string[] = [];
  return { isTTY, written, write: (t: string) => written.push(t) };
};

describe('progress', () => {
  it('draws nothing away from a terminal', async () => {
    const s = stream(false);
    expect(await withSpinner('working', async () => 42, s)).toBe(42);
    expect(s.written).toEqual([]);
  });

  it('spins on a terminal and clears its line at the end, even on failure', async () => {
    const s = stream(true);
    expect(new Spinner(s, {}).live).toBe(true);
    expect(new Spinner(s, { NO_COLOR: '' }).live).toBe(false);
    await expect(withSpinner('working', async () => Promise.reject(new Error('no')), s, {})).rejects.toThrow('no');
    expect(s.written[0]!.startsWith('\r\u001b[2K')).toBe(true);
    expect(s.written[0]!.endsWith(' working')).toBe(true);
    expect(s.written[s.written.length - 1]).toBe('\r\x1b[2K');
  });

  it('honours NO_COLOR', () => {
    expect(colourful({ isTTY: true, write: () => 0 }, {})).toBe(true);
    expect(colourful({ isTTY: true, write: () => 0 }, { NO_COLOR: '1' })).toBe(false);
    expect(colourful({ isTTY: false, write: () => 0 }, {})).toBe(false);
  });
});
