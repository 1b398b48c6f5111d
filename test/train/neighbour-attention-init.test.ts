// The neighbour initialisation must route each head of layer 0 to its fixed offset from the first step,
// whatever the tokens (that is its whole point), and leave the rest of the model as createModel made it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bert } from '../../src/models/bert.js';
import { createModel } from '../../src/models/init.js';
import { bertPreset } from '../../src/models/presets.js';
import { NEIGHBOUR_OFFSETS, neighbourAttentionInit } from '../../src/train/neighbour-attention-init.js';

const get = (b: Bert, n: string) => b.weights.get(n).data as Float32Array;

/** Layer-0 attention logits of one head, computed as HF BERT does: x = LayerNorm(word + position + type). */
function layer0Logits(b: Bert, ids: number[], head: number): number[][] {
  const c = b.config;
  const d = c.hidden_size;
  const hd = d / c.num_attention_heads;
  const [word, pos, type] = ['word', 'position', 'token_type'].map((n) => get(b, `embeddings.${n}_embeddings.weight`));
  const x = ids.map((id, p) => {
    const v = Array.from({ length: d }, (_, i) => word[id * d + i] + pos[p * d + i] + type[i]);
    const mean = v.reduce((a, y) => a + y, 0) / d;
    const sd = Math.sqrt(v.reduce((a, y) => a + (y - mean) ** 2, 0) / d + c.layer_norm_eps);
    return v.map(
      (y, i) => ((y - mean) / sd) * get(b, 'embeddings.LayerNorm.weight')[i] + get(b, 'embeddings.LayerNorm.bias')[i],
    );
  });
  const project = (kind: string) => {
    const w = get(b, `encoder.layer.0.attention.self.${kind}.weight`);
    const bias = get(b, `encoder.layer.0.attention.self.${kind}.bias`);
    return x.map((v) =>
      Array.from({ length: hd }, (_, r) => {
        const row = head * hd + r;
        return v.reduce((a, y, i) => a + w[row * d + i] * y, bias[row]);
      }),
    );
  };
  const q = project('query');
  const k = project('key');
  return q.map((qi) => k.map((kj) => qi.reduce((a, y, r) => a + y * kj[r], 0) / Math.sqrt(hd)));
}

describe('neighbour attention init', () => {
  it('makes every head of layer 0 attend to its offset, for random tokens', () => {
    const bert = createModel(bertPreset('mini', { vocab_size: 500 }), { seed: 3 }) as Bert;
    const untouched = get(bert, 'encoder.layer.1.attention.self.query.weight').slice(3 * 64 * 256);
    neighbourAttentionInit(bert);
    let seed = 11;
    const ids = Array.from({ length: 48 }, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 500);
    for (let h = 0; h < bert.config.num_attention_heads; h++) {
      const offset = NEIGHBOUR_OFFSETS[h];
      const logits = layer0Logits(bert, ids, h);
      for (let i = 2; i < ids.length - 2; i++) {
        const row = logits[i];
        const target = row[i + offset];
        const runnerUp = Math.max(...row.filter((_, j) => j !== i + offset));
        assert.ok(target - runnerUp > 3, `head ${h} at ${i}: logit ${target.toFixed(2)} vs ${runnerUp.toFixed(2)}`);
      }
    }
    // layer 1: only heads 0 and 1 are set; head 3's rows keep their random values
    assert.deepEqual(get(bert, 'encoder.layer.1.attention.self.query.weight').slice(3 * 64 * 256), untouched);
  });
});
