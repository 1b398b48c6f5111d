// Spec §13 T2 in miniature: a tiny backbone is fine-tuned (SISO) in the test, frozen, and RevMUX
// N = 2 adapters learn to serve two queries per row; the saved adapter reproduces its predictions.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { evaluatePairings } from '../../src/eval/pairing.js';
import { loadModel } from '../../src/models/load.js';
import { checkAdapterFits, loadAdapter, specOf } from '../../src/mux/adapter.js';
import { finetune } from '../../src/train/finetune.js';
import { trainMux } from '../../src/train/mux-train.js';
import { sharedData } from '../helpers/shared-data.js';
import { SYNTHETIC_BACKBONE, SYNTHETIC_REVMUX } from '../helpers/synthetic-recipe.js';

describe('end to end on the synthetic task', () => {
  it('SISO fine-tune, then RevMUX N=2 learns; save/load reproduces predictions', async (t) => {
    const tokenizer = sharedData(t, 'tokenizers/bert-base-uncased');
    if (!tokenizer) return;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-e2e-'));
    const backbone = path.join(dir, 'backbone');
    const ft = await finetune({ ...SYNTHETIC_BACKBONE, tokenizer, out: backbone });
    assert.ok(ft.bestDevAccuracy > 0.8, `SISO backbone dev accuracy ${ft.bestDevAccuracy}`);

    const out = path.join(dir, 'adapter');
    const r = await trainMux({ ...SYNTHETIC_REVMUX, model: backbone, out });
    const first = r.history[0];
    const last = r.history[r.history.length - 1];
    assert.ok(last.loss < first.loss, `training loss fell: ${first.loss} -> ${last.loss}`);
    assert.ok(
      r.bestDevAccuracy > 0.9,
      `RevMUX N=2 dev accuracy ${r.bestDevAccuracy} (SISO ${r.sisoDevAccuracy}); chance is 0.5`,
    );

    const model = loadModel(backbone);
    const { config, params } = loadAdapter(out);
    checkAdapterFits(config, model, { n: 2, l: 1 }, out);
    assert.throws(() => checkAdapterFits(config, model, { n: 4 }, out), /N: adapter 2, requested 4/);
    const ev = await evaluatePairings(
      model,
      model.taskHead({ labelIds: null }),
      specOf(config),
      params,
      r.features.dev,
      { pairings: 1, seed: 4141, quiet: true },
    );
    assert.equal(
      ev.mean,
      config.metrics!.selection_dev_accuracy,
      'the reloaded adapter gives exactly the accuracy measured when it was saved',
    );
    assert.equal(ev.siso_accuracy, r.sisoDevAccuracy);
    // both slots are decoded, not just one (copying one instance's answer to both would score ~75%)
    ev.slot_accuracy.forEach((a, slot) => assert.ok(a > 0.85, `slot ${slot} accuracy ${a}`));

    // the same adapters trained on the backbone in int8 (backward through the dequantized weights)
    const outInt8 = path.join(dir, 'adapter-int8');
    const q = await trainMux({ ...SYNTHETIC_REVMUX, model: backbone, out: outInt8, precision: 'int8' });
    assert.ok(
      q.bestDevAccuracy > 0.85,
      `RevMUX N=2 on an int8 backbone: dev accuracy ${q.bestDevAccuracy} (SISO ${q.sisoDevAccuracy})`,
    );
    const saved = loadAdapter(outInt8);
    assert.equal(saved.config.training.precision, 'int8');
    const int8Model = loadModel(backbone, { precision: 'int8' });
    const evInt8 = await evaluatePairings(
      int8Model,
      int8Model.taskHead({ labelIds: null }),
      specOf(saved.config),
      saved.params,
      q.features.dev,
      { pairings: 1, seed: 4141, quiet: true },
    );
    assert.equal(evInt8.mean, saved.config.metrics!.selection_dev_accuracy, 'evaluated in int8 as it was selected');
  });
});

describe('revmux train resume', () => {
  it('a resumed adapter training ends bit-identical to a straight one; a lower epoch cap is a prefix', async (t) => {
    const ref = sharedData(t, 'reference/bert-tiny');
    if (!ref) return;
    const { SafetensorsFile } = await import('../../src/io/safetensors.js');
    const { saveModel } = await import('../../src/models/save.js');
    const { syntheticTokenizerJson } = await import('../../src/data/synthetic.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-resume-'));
    // bert-tiny (it has a classifier) with the synthetic tokenizer: ids stay inside its vocabulary
    const backbone = path.join(dir, 'backbone');
    saveModel(loadModel(ref), backbone);
    fs.writeFileSync(path.join(backbone, 'tokenizer.json'), JSON.stringify(syntheticTokenizerJson()));
    const base = {
      model: backbone,
      task: 'synthetic' as const,
      dataDir: null,
      variant: 'revmux' as const,
      n: 2,
      l: 1,
      epochs: 2,
      lr: 1e-3,
      limitTrain: 640,
      limitDev: 64,
      evalEvery: 10,
      seed: 4,
      quiet: true,
      log: () => {},
    };
    const straight = await trainMux({ ...base, out: path.join(dir, 'a') });
    const cut = await trainMux({ ...base, out: path.join(dir, 'b'), abortAfterSteps: 20 });
    assert.equal(cut.steps, 20);
    const resumed = await trainMux({ ...base, out: path.join(dir, 'b') });
    assert.equal(resumed.steps, 40);
    assert.deepEqual(resumed.history, straight.history);
    const a = SafetensorsFile.open(path.join(dir, 'a', '.train-state', 'params.safetensors'));
    const b = SafetensorsFile.open(path.join(dir, 'b', '.train-state', 'params.safetensors'));
    for (const n of a.names()) assert.deepEqual(b.readFloat32(n), a.readFloat32(n), `${n} after resume`);

    // the epoch cap does not shape a run before it (constant learning rate, each epoch's order from the seed): a
    // one-epoch run is the two-epoch run up to there, which is why the matrix keeps an adapter cell that patience
    // stopped before a raised cap (experiments/matrix-grid.ts, recipeDiff)
    const oneEpoch = await trainMux({ ...base, epochs: 1, out: path.join(dir, 'c') });
    assert.equal(oneEpoch.steps, 20);
    assert.deepEqual(
      oneEpoch.history,
      straight.history.filter((h) => h.step <= 20),
      'losses, train and dev accuracy at every checkpoint',
    );
  });
});
