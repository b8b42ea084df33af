import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../../server/lib/bounded-cache.ts';

describe('bounded cache', () => {
  it('never holds more than its limit, and keeps the latest half of it, whatever is stored or read', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 20 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 50 }))),
        (max, operations) => {
          const cache = new BoundedCache<number, string>(max);
          const used: number[] = [];
          for (const [read, key] of operations) {
            if (read && cache.get(key) === undefined) continue;
            if (!read) cache.set(key, `v${key}`);
            used.push(key);
            expect(cache.size).toBeLessThanOrEqual(max);
          }
          // The keys last stored or read, up to half the limit, are all still there.
          const recent = [...new Set(used.reverse())].slice(0, Math.floor(max / 2));
          for (const key of recent) expect(cache.get(key)).toBe(`v${key}`);
        },
      ),
    );
  });

  it('keeps an answer that is read while newer ones push older ones out', () => {
    const cache = new BoundedCache<string, number>(4);
    cache.set('hot', 1);
    for (let i = 0; i < 20; i++) {
      cache.set(`cold${i}`, i);
      expect(cache.get('hot')).toBe(1);
    }
    expect(cache.get('cold0')).toBeUndefined();
    expect(cache.size).toBeLessThanOrEqual(4);
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

  it('refuses a limit too small to hold two generations', () => {
    expect(() => new BoundedCache(1)).toThrow(/integer >= 2/);
    expect(() => new BoundedCache(2.5)).toThrow(/integer >= 2/);
  });
});
