import { describe, expect, it } from 'vitest';
import { Expectations } from './expectations';

describe('expectations', () => {
  it('are satisfied once every create and named delete is observed', () => {
    const e = new Expectations(() => 0, 1000);
    expect(e.satisfied('ns/rs')).toBe(true);
    e.expect('ns/rs', 2, ['ns/p1']);
    e.creationObserved('ns/rs');
    e.deletionObserved('ns/rs', 'ns/p1');
    expect(e.satisfied('ns/rs')).toBe(false);
    e.creationFailed('ns/rs');
    expect(e.satisfied('ns/rs')).toBe(true);
  });

  it('a deletion observed twice, or of another pod, changes nothing; a timeout releases them', () => {
    let now = 0;
    const e = new Expectations(() => now, 1000);
    e.expect('ns/rs', 0, ['ns/p1', 'ns/p2']);
    e.deletionObserved('ns/rs', 'ns/p1');
    e.deletionObserved('ns/rs', 'ns/p1');
    e.deletionObserved('ns/rs', 'ns/other');
    expect(e.pending('ns/rs')).toEqual({ adds: 0, deletes: 1 });
    now = 1001;
    expect(e.satisfied('ns/rs')).toBe(true);
  });
});
