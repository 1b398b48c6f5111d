// T5's neighbour initialisation must route, from the first step and whatever the tokens: encoder heads 0 and 1
// to the keys one to the left and right, and decoder cross-attention heads 0 and 1 to the encoder positions
// holding the decoder position's own token; every other weight stays as createModel made it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createModel } from '../../src/models/init.js';
import { presetConfig } from '../../src/models/presets.js';
import type { T5 } from '../../src/models/t5.js';
import { T5_NEIGHBOUR_OFFSETS, exactBucket, t5NeighbourInit } from '../../src/train/t5-neighbour-init.js';

const get = (m: T5, n: string) => m.weights.get(n).data as Float32Array;

/** RMS-normed embeddings of ids (the layer norms start at weight 1). */
function normed(m: T5, ids: number[]): number[][] {
  const d = m.config.d_model;
  const table = get(m, 'shared.weight');
  return ids.map((id) => {
    const v = Array.from(table.subarray(id * d, (id + 1) * d));
    const rms = Math.sqrt(v.reduce((a, y) => a + y * y, 0) / d + m.config.layer_norm_epsilon);
    return v.map((y) => y / rms);
  });
}

/** One head's logits q_i . k_j (T5 does not scale them) over the rows of `weight`. */
function logits(m: T5, prefix: string, head: number, queries: number[][], keys: number[][]): number[][] {
  const { d_model: d, d_kv: dk } = m.config;
  const project = (w: Float32Array, x: number[]) =>
    Array.from({ length: dk }, (_, r) => x.reduce((a, y, i) => a + w[(head * dk + r) * d + i] * y, 0));
  const q = queries.map((x) => project(get(m, `${prefix}.q.weight`), x));
  const k = keys.map((x) => project(get(m, `${prefix}.k.weight`), x));
  return q.map((qi) => k.map((kj) => qi.reduce((a, y, r) => a + y * kj[r], 0)));
}

describe('T5 neighbour init', () => {
  const model = () => createModel(presetConfig('t5', 'mini', { vocab_size: 500 }), { seed: 3 }) as T5;
  let seed = 11;
  const ids = Array.from({ length: 48 }, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 500);

  it('puts offsets -1 and +1 in the exact buckets transformers uses, and refuses a far offset', () => {
    assert.equal(exactBucket(-1, 32), 1);
    assert.equal(exactBucket(1, 32), 17);
    assert.equal(exactBucket(-7, 32), 7);
    assert.throws(() => exactBucket(8, 32), /not in the exact range/);
  });

  it('makes encoder heads 0 and 1 attend to their neighbour in every block, for random tokens', () => {
    const t5 = model();
    const c = t5.config;
    const untouched = get(t5, 'encoder.block.0.layer.0.SelfAttention.q.weight').slice(2 * 64 * 256);
    t5NeighbourInit(t5, 1);
    const table = get(t5, 'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight');
    const x = normed(t5, ids);
    T5_NEIGHBOUR_OFFSETS.forEach((offset, h) => {
      for (let block = 0; block < c.num_layers; block++) {
        const l = logits(t5, `encoder.block.${block}.layer.0.SelfAttention`, h, x, x);
        for (let i = 1; i < ids.length - 1; i++) {
          const row = l[i].map(
            (v, j) => v + table[exactBucket(Math.max(-7, Math.min(7, j - i)), 32) * c.num_heads + h],
          );
          // beyond +-7 the buckets are logarithmic and unset (0); the clamp only changes far keys
          const target = row[i + offset];
          const runnerUp = Math.max(...row.filter((_, j) => j !== i + offset));
          assert.ok(
            target - runnerUp > 3,
            `block ${block} head ${h} at ${i}: ${target.toFixed(2)} vs ${runnerUp.toFixed(2)}`,
          );
        }
      }
    });
    // heads 2 and 3 keep their random queries
    assert.deepEqual(get(t5, 'encoder.block.0.layer.0.SelfAttention.q.weight').slice(2 * 64 * 256), untouched);
  });

  it('makes cross-attention heads 0 and 1 find the decoder token in the encoder input', () => {
    const t5 = model();
    const untouched = get(t5, 'decoder.block.1.layer.1.EncDecAttention.q.weight').slice(2 * 64 * 256);
    t5NeighbourInit(t5, 1);
    const encoder = normed(t5, ids);
    for (let block = 0; block < t5.config.num_decoder_layers; block++) {
      for (const h of [0, 1]) {
        const l = logits(t5, `decoder.block.${block}.layer.1.EncDecAttention`, h, encoder, encoder);
        for (let i = 0; i < ids.length; i++) {
          const same = l[i].filter((_, j) => ids[j] === ids[i]);
          const other = l[i].filter((_, j) => ids[j] !== ids[i]);
          assert.ok(
            Math.min(...same) - Math.max(...other) > 3,
            `block ${block} head ${h} token ${i}: ${same} vs ${Math.max(...other)}`,
          );
        }
      }
    }
    // heads 2 and 3 keep their random weights
    assert.deepEqual(get(t5, 'decoder.block.1.layer.1.EncDecAttention.q.weight').slice(2 * 64 * 256), untouched);
  });
});
