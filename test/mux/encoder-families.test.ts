// Every registered classifier-encoder family goes through the whole path on the synthetic task: a
// tiny random model of that family (made here, saved as a Hugging Face folder with a tokenizer),
// SISO fine-tuning, RevMUX N = 2 adapters on the frozen result, evaluation over a pairing with every
// slot above chance, and its FLOPs. BERT itself is covered by end-to-end.test.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { syntheticTokenizerJson } from '../../src/data/synthetic.js';
import { muxFlops, sisoFlops } from '../../src/eval/flops.js';
import { evaluatePairings } from '../../src/eval/pairing.js';
import { parseConfig } from '../../src/models/config.js';
import { createModel } from '../../src/models/init.js';
import { loadModel } from '../../src/models/load.js';
import { saveModel } from '../../src/models/save.js';
import { loadAdapter, specOf } from '../../src/mux/adapter.js';
import { finetune } from '../../src/train/finetune.js';
import { trainMux } from '../../src/train/mux-train.js';
import { SYNTHETIC_FINETUNE, SYNTHETIC_REVMUX } from '../helpers/synthetic-recipe.js';

const tokenizer = syntheticTokenizerJson();
const vocab = Object.keys((tokenizer.model as { vocab: Record<string, number> }).vocab).length;
const labels = { id2label: { 0: 'negative', 1: 'positive' } };
const configs = {
  distilbert: {
    model_type: 'distilbert',
    vocab_size: vocab,
    dim: 64,
    hidden_dim: 128,
    n_heads: 2,
    n_layers: 3,
    max_position_embeddings: 64,
    ...labels,
  },
  roberta: {
    model_type: 'roberta',
    vocab_size: vocab,
    hidden_size: 64,
    intermediate_size: 128,
    num_attention_heads: 2,
    num_hidden_layers: 3,
    max_position_embeddings: 80,
    type_vocab_size: 1,
    pad_token_id: 0,
    ...labels,
  },
};

for (const [family, json] of Object.entries(configs)) {
  describe(`${family} end to end on the synthetic task`, () => {
    it('fine-tunes, multiplexes with RevMUX N = 2 (every slot above chance), and counts its FLOPs', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `revmux-${family}-`));
      const random = path.join(dir, 'random');
      saveModel(createModel(parseConfig(json), { seed: 1 }), random);
      fs.writeFileSync(path.join(random, 'tokenizer.json'), JSON.stringify(tokenizer));
      assert.equal(
        JSON.parse(fs.readFileSync(path.join(random, 'config.json'), 'utf8')).model_type,
        family,
        'saved under its own model_type',
      );

      const backbone = path.join(dir, 'backbone');
      const ft = await finetune({ ...SYNTHETIC_FINETUNE, model: random, out: backbone });
      assert.ok(ft.bestDevAccuracy > 0.8, `${family} SISO dev accuracy ${ft.bestDevAccuracy}`);
      const model = loadModel(backbone);
      assert.equal(model.modelType, family);

      const out = path.join(dir, 'adapter');
      // a smaller budget than the end-to-end test: this one asks 0.8 of every family, not 0.9
      const r = await trainMux({ ...SYNTHETIC_REVMUX, model: backbone, out, epochs: 3, limitTrain: 6000 });
      assert.ok(
        r.bestDevAccuracy > 0.8,
        `${family} RevMUX N=2 dev accuracy ${r.bestDevAccuracy} (SISO ${r.sisoDevAccuracy}); chance is 0.5`,
      );
      const { config, params } = loadAdapter(out);
      assert.equal(config.base_model.model_type, family);
      const ev = await evaluatePairings(
        model,
        model.taskHead({ labelIds: null }),
        specOf(config),
        params,
        r.features.dev,
        { pairings: 1, seed: 4141, quiet: true },
      );
      for (const [slot, acc] of ev.slot_accuracy.entries())
        assert.ok(acc > 0.7, `${family} slot ${slot} accuracy ${acc}`);

      const siso = sisoFlops(model.config, 32).total;
      const mux = muxFlops(model.config, specOf(config), 32).total;
      assert.ok(mux < siso && siso > 0, `${family}: multiplexed ${mux} FLOPs below SISO ${siso}`);
    });
  });
}
