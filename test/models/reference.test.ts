// Every tensor of each reference golden (an independent float64 implementation of transformers'
// semantics) is matched at real-token positions within 1e-4.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { HostTensor } from '../../src/engine/runtime.js';
import { goldenInputs } from '../helpers/golden.js';
import { runForward } from '../../src/models/forward.js';
import { loadModel } from '../../src/models/load.js';
import { sharedData } from '../helpers/shared-data.js';

/** Max |a - b| over positions where the [B, S] mask is 1 (all positions when mask is null). */
export function maskedMaxDiff(
  a: HostTensor,
  b: Float32Array,
  shape: number[],
  mask: BigInt64Array | null,
  seq: number,
): number {
  assert.deepEqual(a.shape, shape, 'output shape');
  const batch = shape[0];
  const per = shape.slice(1).reduce((p, q) => p * q, 1);
  const inner = shape.length >= 3 ? shape.slice(2).reduce((p, q) => p * q, 1) : per;
  let worst = 0;
  for (let i = 0; i < batch * per; i++) {
    if (mask && shape.length >= 3 && shape[1] === seq) {
      const bIdx = Math.floor(i / per);
      const sIdx = Math.floor((i % per) / inner);
      if (mask[bIdx * seq + sIdx] === 0n) continue;
    }
    worst = Math.max(worst, Math.abs((a.data[i] as number) - b[i]));
  }
  return worst;
}

for (const name of [
  'bert-tiny',
  'distilbert-tiny',
  'roberta-tiny',
  't5-tiny',
  'llama-tiny',
  'qwen2-tiny',
  'qwen3-tiny',
]) {
  describe(`reference checkpoint ${name}`, () => {
    it('matches every golden tensor within 1e-4', async (t) => {
      const dir = sharedData(t, path.join('reference', name));
      if (!dir) return;
      const model = loadModel(dir);
      const { feeds, golden } = goldenInputs(dir);
      const out = await runForward(model, feeds);
      const mask = feeds.attention_mask.data as BigInt64Array;
      const seq = feeds.attention_mask.shape[1];
      const expected = golden.names().filter((n) => !(n in feeds));
      assert.ok(expected.includes('logits') && expected.includes('last_hidden_state'));
      const report: string[] = [];
      for (const n of expected) {
        assert.ok(out[n], `output '${n}' is produced`);
        const diff = maskedMaxDiff(out[n], golden.readFloat32(n), golden.info(n).shape, mask, seq);
        report.push(`${n} ${diff.toExponential(2)}`);
        assert.ok(diff <= 1e-4, `${name} ${n}: max |diff| ${diff} > 1e-4`);
      }
      t.diagnostic(report.join(', '));
      golden.close();
    });
  });
}
