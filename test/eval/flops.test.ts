// FLOPs formulas against hand-computed values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  adapterFlops,
  fullMuxFlops,
  layerFlops,
  muxFlops,
  sisoFlops,
  theoreticalSpeedup,
} from '../../src/eval/flops.js';
import { parseConfig } from '../../src/models/config.js';
import { adapterSize } from '../../src/mux/spec.js';

const bertBase = parseConfig({ model_type: 'bert' });

describe('FLOPs accounting', () => {
  it('one BERT-base layer at S = 128, by hand', () => {
    // Q, K, V, O: 4 x (2 * 128 * 768 * 768) = 603,979,776; QK^T and PV: 2 x (2 * 128 * 128 * 768) = 50,331,648;
    // FFN: 2 x (2 * 128 * 768 * 3072) = 1,207,959,552; total 1,862,270,976
    assert.equal(layerFlops(bertBase, 128), 1_862_270_976);
  });
  it('SISO BERT-base per example: 12 layers + pooler + classifier', () => {
    assert.equal(sisoFlops(bertBase, 128).total, 12 * 1_862_270_976 + 2 * 768 * 768 + 2 * 768 * 2);
  });
  it('DataMUX and MUX-PLM at N = 2, BERT-base, S = 128, by hand', () => {
    const settings = { nu: 20, numLabels: 2, fillerId: 0, indexIds: [1, 2] };
    // DataMUX: 12 layers over 130 tokens (its 2-token index prefix) shared by 2. One layer at S = 130:
    // 4 x (2 * 130 * 768^2) + 2 x (2 * 130^2 * 768) + 2 x (2 * 130 * 768 * 3072) = 1,892,167,680.
    // Head per instance: the key's half of dense1 and dense2 (2 x 2 * 768^2), [CLS]'s half of dense1 once per
    // group of 2 (768^2), the classifier (2 * 768 * 2).
    const head = 4 * 768 * 768 + 768 * 768 + 4 * 768;
    const datamux = fullMuxFlops(bertBase, { ...settings, method: 'datamux', n: 2, demuxLayers: 2 }, 128);
    assert.equal(datamux, (12 * 1_892_167_680) / 2 + head);
    // MUX-PLM: no prefix; dense_mid and dense2 per instance, position 0's half of dense1 per group
    const muxplm = fullMuxFlops(bertBase, { ...settings, method: 'muxplm', n: 2, demuxLayers: 3 }, 128);
    assert.equal(muxplm, (12 * 1_862_270_976) / 2 + head);
    // so the bound over SISO stays a little under N: no pooler, but the demux head
    assert.ok(Math.abs(sisoFlops(bertBase, 128).total / muxplm - 2) < 0.01);
  });
  it('the theoretical bound L / (l + (L - l) / N)', () => {
    assert.equal(theoreticalSpeedup(12, 0, 2), 2);
    assert.ok(Math.abs(theoreticalSpeedup(12, 3, 2) - 1.6) < 1e-12);
    assert.ok(Math.abs(theoreticalSpeedup(12, 6, 2) - 4 / 3) < 1e-12);
    assert.ok(Math.abs(theoreticalSpeedup(4, 2, 16) - 4 / 2.125) < 1e-12);
  });
  it('RevMUX adapters at N = 2, d = 768, S = 128, by hand', () => {
    const spec = { variant: 'revmux' as const, n: 2, l: 6, d: 768, dropout: 0.1 };
    const ds = 384;
    const down = 2 * 128 * 768 * ds; // 75,497,472
    const muxCouplings = 128 * 4 * 768 * ds; // one coupling per instance per token: 150,994,944
    const demux = 4 * 768 * ds + 2 * (3 * 768 * ds + 9 * 768 * 768 + 3 * 768 * 768); // coupling + U at one position
    const a = adapterFlops(spec, 128);
    assert.equal(a.mux, down + muxCouplings);
    assert.equal(a.demux, demux);
    const f = muxFlops(bertBase, spec, 128);
    assert.equal(f.prefill, 6 * 1_862_270_976);
    assert.equal(f.shared_layers, (6 * 1_862_270_976) / 2);
    assert.equal(f.total, f.prefill + f.adapters + f.shared_layers + (2 * 768 * 768) / 2 + 2 * 768 * 2);
    // the adapters cost about 2% of a layer-6 split here: the bound is nearly reached
    assert.ok(sisoFlops(bertBase, 128).total / f.total > 1.3);
  });
  it('trainable parameter counts match the table of spec §7 (BERT-base)', () => {
    const count = (variant: 'revmux' | 'ora' | 'vanilla', n: number) =>
      adapterSize({ variant, n, l: 6, d: 768, dropout: 0.1 });
    assert.equal((count('revmux', 2) / 1e6).toFixed(2), '9.45');
    assert.equal((count('revmux', 4) / 1e6).toFixed(2), '8.86');
    assert.equal((count('vanilla', 2) / 1e6).toFixed(2), '16.53');
    assert.equal((count('ora', 2) / 1e6).toFixed(2), '12.10');
  });
});
