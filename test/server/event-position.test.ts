import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  advance,
  bounded,
  covers,
  formatPosition,
  MAX_STREAM_EARLY,
  type Position,
  parsePosition,
  positionAt,
  union,
  withEvent,
} from '../../server/live/event-position.ts';

/**
 * Issue #20: the event hub reads a transaction's events as soon as it commits, so what a stream
 * has had is a prefix plus transactions above it. These are the rules its Last-Event-ID keeps.
 */

const at = (txId: number, id: number) => ({ txId, id });

describe('event positions', () => {
  it('has had everything up to its horizon and, above it, each transaction up to its row', () => {
    const p = withEvent(withEvent(positionAt(at(100, 7)), at(105, 3)), at(103, 9));
    expect(covers(p, at(100, 7))).toBe(true);
    expect(covers(p, at(99, 1_000))).toBe(true);
    expect(covers(p, at(100, 8))).toBe(false);
    expect(covers(p, at(103, 9))).toBe(true);
    expect(covers(p, at(103, 10))).toBe(false);
    expect(covers(p, at(104, 1))).toBe(false);
    expect(covers(p, at(105, 2))).toBe(true);
    expect(formatPosition(p)).toBe('100_7.3_9.5_3');
  });

  it('drops what a raised horizon covers', () => {
    const p = withEvent(withEvent(positionAt(at(100, 7)), at(103, 9)), at(105, 3));
    const raised = advance(p, at(104, Number.MAX_SAFE_INTEGER));
    expect(formatPosition(raised)).toBe(`104_${Number.MAX_SAFE_INTEGER}.1_3`);
    // A lower horizon changes nothing.
    expect(advance(raised, at(101, 1))).toBe(raised);
  });

  it('reads back what it writes, and nothing it would not write', () => {
    const p = withEvent(withEvent(positionAt(at(100, Number.MAX_SAFE_INTEGER)), at(103, 9)), at(105, 3));
    expect(parsePosition(formatPosition(p))).toEqual(p);
    expect(parsePosition('41_7')).toEqual(positionAt(at(41, 7)));
    for (const bad of [
      '',
      '41',
      '41_',
      '_7',
      '41_7.',
      '41_7.0_1',
      '41_7.4_1.4_2',
      '41_7.4_1.3_1',
      'a_1',
      '1_9007199254740993',
    ])
      expect(parsePosition(bad), bad).toBeNull();
    const tooMany = Array.from({ length: MAX_STREAM_EARLY + 1 }, (_, i) => `.${200 + i}_1`).join('');
    expect(parsePosition(`100_1${tooMany}`)).toBeNull();
  });

  it('unites two positions into everything either has had', () => {
    const slow = withEvent(positionAt(at(100, 7)), at(104, 2));
    const fast = withEvent(positionAt(at(102, 5)), at(106, 1));
    const both = union(slow, fast);
    expect(formatPosition(both)).toBe('102_5.2_2.4_1');
    expect(union(fast, slow)).toEqual(both);
  });

  it('forgets its newest entries past the limit, so a resume may repeat but never miss', () => {
    let p: Position = positionAt(at(100, 1));
    for (let i = 0; i < MAX_STREAM_EARLY + 5; i++) p = withEvent(p, at(200 + i, 1));
    const kept = bounded(p);
    expect(kept.early.size).toBe(MAX_STREAM_EARLY);
    expect(covers(kept, at(200, 1))).toBe(true);
    expect(covers(kept, at(200 + MAX_STREAM_EARLY + 4, 1))).toBe(false);
    expect(parsePosition(formatPosition(kept))).toEqual(kept);
  });

  it('agrees with a plain set of the events had, whatever the order they come in', () => {
    const event = fc.record({ txId: fc.integer({ min: 1, max: 30 }), id: fc.integer({ min: 1, max: 5 }) });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), fc.integer({ min: 0, max: 30 }), (events, raiseTo) => {
        let p = positionAt(at(0, 0));
        // A transaction's rows come in order (the hub reads them so).
        const sorted = [...events].sort((a, b) => a.txId - b.txId || a.id - b.id);
        const had = new Set<string>();
        for (const e of sorted) {
          p = withEvent(p, e);
          for (let id = 1; id <= e.id; id++) had.add(`${e.txId}_${id}`);
        }
        p = advance(p, at(raiseTo, 5));
        for (let tx = 1; tx <= raiseTo; tx++) for (let id = 1; id <= 5; id++) had.add(`${tx}_${id}`);
        for (let tx = 1; tx <= 31; tx++)
          for (let id = 1; id <= 5; id++) expect(covers(p, at(tx, id))).toBe(had.has(`${tx}_${id}`));
        expect(parsePosition(formatPosition(p))).toEqual(p);
      }),
    );
  });
});
