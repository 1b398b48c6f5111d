// T5's span corruption: the counts transformers' random_spans_noise_mask gives, and inputs and targets that
// put the sequence back together exactly when each sentinel in the input is replaced by its span.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/engine/random.js';
import { corruptSpans, spanCorruptionFeeds, spanCounts } from '../../src/data/span-corruption.js';

const sentinelIds = Array.from({ length: 20 }, (_, i) => 900 + i);
const o = { noiseDensity: 0.15, meanSpanLength: 3, sentinelIds, eosId: 3, decoderStartId: 0 };

/** The sequence the input and target came from: each sentinel in the input replaced by its span. */
function restore(input: number[], target: number[]): number[] {
  const spans = new Map<number, number[]>();
  let current: number[] = [];
  for (const id of target.slice(0, -1)) {
    if (sentinelIds.includes(id)) spans.set(id, (current = []));
    else current.push(id);
  }
  return input.slice(0, -1).flatMap((id) => (sentinelIds.includes(id) ? spans.get(id)! : [id]));
}

describe('span corruption', () => {
  it("counts noise tokens and spans as transformers' random_spans_noise_mask does", () => {
    // round(L * density) noise tokens (at least 1, at most L - 1) in round(min(noise, kept) / 3) spans (at least 1)
    assert.deepEqual(spanCounts(64, o), { noise: 10, spans: 3 });
    assert.deepEqual(spanCounts(568, o), { noise: 85, spans: 28 }); // T5's 512-token inputs come from 568
    assert.deepEqual(spanCounts(64, { ...o, noiseDensity: 0.4 }), { noise: 26, spans: 9 });
    assert.deepEqual(spanCounts(2, o), { noise: 1, spans: 1 });
    assert.deepEqual(spanCounts(10, { ...o, noiseDensity: 0.99 }), { noise: 9, spans: 1 });
    assert.throws(() => spanCounts(1, o), /at least 2 tokens/);
  });

  it('cuts spans that the target writes back after their sentinels, in order, ending both with the eos', () => {
    const rng = new Rng(5);
    for (const length of [2, 7, 64, 100]) {
      for (let trial = 0; trial < 20; trial++) {
        const seq = Array.from({ length }, (_, i) => 10 + i);
        const { input, target } = corruptSpans(seq, rng, { ...o, noiseDensity: trial % 2 ? 0.15 : 0.4 });
        const { noise, spans } = spanCounts(length, { ...o, noiseDensity: trial % 2 ? 0.15 : 0.4 });
        assert.deepEqual(restore(input, target), seq);
        assert.equal(input.length, length - noise + spans + 1);
        assert.equal(target.length, noise + spans + 1);
        assert.deepEqual(
          target.filter((id) => sentinelIds.includes(id)),
          sentinelIds.slice(0, spans),
        );
        assert.deepEqual(
          input.filter((id) => sentinelIds.includes(id)),
          sentinelIds.slice(0, spans),
        );
        assert.equal(input.at(-1), 3);
        assert.equal(target.at(-1), 3);
        // every span is non-empty: no two sentinels in a row, and the target never ends a span on the eos at once
        assert.ok(target.every((id, i) => !sentinelIds.includes(id) || !sentinelIds.includes(target[i + 1])));
        assert.ok(!sentinelIds.includes(target.at(-2)!));
      }
    }
  });

  it('places spans at random: different draws give different cuts, the same seed the same', () => {
    const seq = Array.from({ length: 64 }, (_, i) => 10 + i);
    const a = corruptSpans(seq, new Rng(1), o);
    assert.deepEqual(corruptSpans(seq, new Rng(1), o), a);
    const distinct = new Set(Array.from({ length: 10 }, (_, s) => corruptSpans(seq, new Rng(s), o).input.join()));
    assert.ok(distinct.size >= 9, `${distinct.size} distinct inputs of 10`);
  });

  it('refuses more spans than sentinels, naming both', () => {
    const seq = Array.from({ length: 200 }, (_, i) => i);
    assert.throws(
      () => corruptSpans(seq, new Rng(1), { ...o, noiseDensity: 0.5 }),
      /33 noise spans need 33 sentinels, .* 20/,
    );
  });

  it('feeds the decoder its targets shifted right after the start id, and scores every target', () => {
    const seqs = [Array.from({ length: 20 }, (_, i) => 10 + i), Array.from({ length: 20 }, (_, i) => 40 + i)];
    const f = spanCorruptionFeeds(seqs, new Rng(2), o);
    const [B, T] = f.decoder_input_ids.shape;
    assert.equal(B, 2);
    assert.deepEqual(f.input_ids.shape, [2, 20 - 3 + 1 + 1]);
    const labels = Array.from(f.lm_labels.data as BigInt64Array, Number);
    const decoder = Array.from(f.decoder_input_ids.data as BigInt64Array, Number);
    for (let b = 0; b < B; b++) {
      assert.equal(decoder[b * T], 0);
      assert.deepEqual(decoder.slice(b * T + 1, (b + 1) * T), labels.slice(b * T, (b + 1) * T - 1));
      const input = Array.from(f.input_ids.data as BigInt64Array, Number).slice(b * 19, (b + 1) * 19);
      assert.deepEqual(restore(input, labels.slice(b * T, (b + 1) * T)), seqs[b]);
    }
    assert.deepEqual(Array.from(f.lm_positions.data as BigInt64Array, Number), [...Array(B * T).keys()]);
    assert.ok((f.attention_mask.data as BigInt64Array).every((x) => x === 1n));
    assert.throws(() => spanCorruptionFeeds([seqs[0], seqs[1].slice(1)], new Rng(2), o), /one length/);
  });
});
