import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../../server/lib/bounded-cache.ts';

describe('bounded cache', () => {
  it('never holds more than its limit, whatever is stored', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.integer({ min: 0, max: 50 })), (max, keys) => {
        const cache = new BoundedCache<number, string>(max);
        for (const key of keys) cache.set(key, `v${key}`);
        expect(cache.size).toBeLessThanOrEqual(max);
        expect(cache.size).toBe(Math.min(max, new Set(keys).size));
      }),
    );
  });

  it('forgets the least recently used entry first, counting reads as use', () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
  });

  it('computes an answer once and then remembers it', () => {
    const cache = new BoundedCache<string, number>(4);
    let calls = 0;
    const compute = () => {
      calls += 1;
      return 42;
    };
    expect(cache.getOrCompute('x', compute)).toBe(42);
    expect(cache.getOrCompute('x', compute)).toBe(42);
    expect(calls).toBe(1);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('refuses a limit that is not a positive whole number', () => {
    expect(() => new BoundedCache(0)).toThrow(/positive integer/);
    expect(() => new BoundedCache(1.5)).toThrow(/positive integer/);
  });
});
