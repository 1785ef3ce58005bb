import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ctx, QUICK } from '../src/context';
import { alternate, roundOrder } from '../src/rounds';
import { rejectedSpans } from '../src/spangen';
import { replaceMarked } from '../src/report';
import { latencySummary, median, medianPairedRatio, meets, pairedDiffs, pairedRatios, percentile } from '../src/stats';

describe('median', () => {
  it('takes the middle of an odd count and the mean of the two middles of an even count', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([7]), 7);
  });
  it('is NaN with no samples and does not reorder its input', () => {
    assert.ok(Number.isNaN(median([])));
    const xs = [3, 1, 2];
    median(xs);
    assert.deepEqual(xs, [3, 1, 2]);
  });
});

describe('percentile (nearest rank)', () => {
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted order
  it('answers observed values', () => {
    assert.equal(percentile(xs, 50), 50);
    assert.equal(percentile(xs, 99), 99);
    assert.equal(percentile(xs, 100), 100);
    assert.equal(percentile(xs, 0), 1);
    assert.equal(percentile([5, 1, 9, 3], 50), 3);
    assert.equal(percentile([5, 1, 9, 3], 75), 5);
  });
  it('p99 of few samples is the largest one', () => {
    assert.equal(percentile([1, 2, 3, 40], 99), 40);
  });
  it('rejects percentiles outside 0..100 and is NaN with no samples', () => {
    assert.throws(() => percentile([1], 101), RangeError);
    assert.ok(Number.isNaN(percentile([], 50)));
  });
  it('latencySummary agrees with percentile', () => {
    const s = latencySummary(xs);
    assert.deepEqual([s.p50, s.p90, s.p99, s.max, s.count, s.mean], [50, 90, 99, 100, 100, 50.5]);
  });
});

describe('paired ratios and differences', () => {
  it('divide and subtract round by round', () => {
    assert.deepEqual(pairedRatios([10, 20, 30], [5, 40, 10]), [2, 0.5, 3]);
    assert.deepEqual(pairedDiffs([1.5, 2, 3], [1, 2.5, 1]), [0.5, -0.5, 2]);
  });
  it('median of paired ratios cancels drift that affects both sides of a round alike', () => {
    // The machine slows down 4x between rounds; side a is always 80 % of side b.
    const b = [1000, 500, 250];
    const a = b.map((x) => x * 0.8);
    const r = medianPairedRatio(a, b);
    assert.ok(Math.abs(r.median - 0.8) < 1e-12);
    assert.equal(r.n, 3);
    // Whereas the ratio of the medians of unpaired, shuffled runs does not.
    assert.notEqual(median([a[2], a[1], a[0]]) / median([b[0], b[0], b[1]]), 0.8);
  });
  it('refuses samples of different lengths', () => {
    assert.throws(() => pairedRatios([1, 2], [1]), /differ in length/);
  });
});

describe('targets', () => {
  it('met or not met, inclusive of the bound', () => {
    assert.equal(meets(0.8, { op: '>=', value: 0.8 }), true);
    assert.equal(meets(0.79, { op: '>=', value: 0.8 }), false);
    assert.equal(meets(1, { op: '<=', value: 1 }), true);
    assert.equal(meets(1.01, { op: '<=', value: 1 }), false);
    assert.equal(meets(0, { op: '<=', value: 0 }), true);
  });
  it('is undefined when the figure was not measured', () => {
    assert.equal(meets(NaN, { op: '<=', value: 1 }), undefined);
  });
});

describe('side order', () => {
  it('rotates every round so no side always runs first', () => {
    assert.deepEqual(roundOrder(['a', 'b'], 0), ['a', 'b']);
    assert.deepEqual(roundOrder(['a', 'b'], 1), ['b', 'a']);
    assert.deepEqual(roundOrder(['a', 'b', 'c'], 2), ['c', 'a', 'b']);
  });
  it('runs a side with fewer rounds in the first ones only, in the rotated order', async () => {
    const calls: string[] = [];
    const ctx = new Ctx('test', QUICK, performance.now());
    ctx.log = () => {};
    const record = async (side: string, r: number) => {
      calls.push(`${r}${side}`);
      return r;
    };
    const out = await alternate(ctx, ['a', 'b', 'c'] as const, 3, record, { c: 2 });
    assert.deepEqual(calls, ['0a', '0b', '0c', '1b', '1c', '1a', '2a', '2b']);
    assert.deepEqual(out, { a: [0, 1, 2], b: [0, 1, 2], c: [0, 1] });
  });
});

describe('helpers', () => {
  it('reads rejected_spans from an OTLP protobuf answer', () => {
    assert.equal(rejectedSpans(Buffer.alloc(0)), 0);
    assert.equal(rejectedSpans(Buffer.from([0x0a, 0x00])), 0); // empty partial_success
    assert.equal(rejectedSpans(Buffer.from([0x0a, 0x03, 0x08, 0xac, 0x02])), 300);
  });
  it('rewrites only the marked section of the document', () => {
    const doc = 'intro\n<!-- bench:start -->\nold\n<!-- bench:end -->\noutro\n';
    const out = replaceMarked(doc, 'new table\n');
    assert.match(out, /^intro\n<!-- bench:start -->\n/);
    assert.match(out, /new table\n\n<!-- bench:end -->\noutro\n$/);
    assert.doesNotMatch(out, /old/);
    assert.throws(() => replaceMarked('no markers', 'x'), /no <!-- bench:start -->/);
  });
});
