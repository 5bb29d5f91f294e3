import { describe, expect, it } from 'vitest';
import { eventually } from './eventually';

describe('eventually', () => {
  it('resolves with the first defined value, retrying through thrown errors', async () => {
    let calls = 0;
    const v = await eventually('the third call', async () => {
      calls++;
      if (calls === 1) throw new Error('not yet');
      return calls >= 3 ? calls : undefined;
    }, { intervalMs: 1 });
    expect(v).toBe(3);
  });

  it('times out naming what it waited for, the last error and the details', async () => {
    await expect(
      eventually('the moon', async () => {
        throw new Error('no moon');
      }, { timeoutMs: 20, intervalMs: 5, details: () => 'log: dark' }),
    ).rejects.toThrow(/timed out waiting for the moon: Error: no moon\nlog: dark/);
  });
});
