// SISO fine-tuning lifts accuracy above chance, and an interrupted run resumed from its checkpoint
// (dropout on) ends bit-identical to an uninterrupted one.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { SafetensorsFile } from '../../src/io/safetensors.js';
import { type FinetuneOptions, finetune } from '../../src/train/finetune.js';
import { syntheticTokenizerJson } from '../../src/data/synthetic.js';
import { TextTokenizer } from '../../src/io/tokenizer.js';
import { sharedData } from '../helpers/shared-data.js';

describe('revmux finetune', () => {
  it('learns the synthetic task and resumes exactly', async (t) => {
    const tokenizer = sharedData(t, 'tokenizers/bert-base-uncased');
    if (!tokenizer) return;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-ft-'));
    const base: FinetuneOptions = {
      init: 'tiny',
      initConfig: {
        hidden_size: 32,
        intermediate_size: 64,
        num_attention_heads: 2,
        num_hidden_layers: 2,
        max_position_embeddings: 64,
      },
      tokenizer,
      task: 'synthetic',
      dataDir: null,
      out: '',
      epochs: 2,
      batchSize: 32,
      lr: 3e-3,
      limitTrain: 1280,
      limitDev: 300,
      evalEvery: 20,
      seed: 9,
      quiet: true,
      log: () => {},
    };
    const straight = await finetune({ ...base, out: path.join(dir, 'a') });
    assert.equal(straight.steps, 80);
    assert.ok(straight.bestDevAccuracy > 0.75, `dev accuracy ${straight.bestDevAccuracy}, chance 0.5`);
    const cut = await finetune({ ...base, out: path.join(dir, 'b'), abortAfterSteps: 40 });
    assert.equal(cut.steps, 40);
    const resumed = await finetune({ ...base, out: path.join(dir, 'b') });
    assert.equal(resumed.steps, 80);
    assert.deepEqual(resumed.history, straight.history);
    const a = SafetensorsFile.open(path.join(dir, 'a', 'model.safetensors'));
    const b = SafetensorsFile.open(path.join(dir, 'b', 'model.safetensors'));
    for (const n of a.names()) assert.deepEqual(b.readFloat32(n), a.readFloat32(n), `${n} after resume`);
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'a', 'config.json'), 'utf8'));
    assert.deepEqual(cfg.id2label, { 0: 'negative', 1: 'positive' });
    assert.equal(cfg.architectures[0], 'BertForSequenceClassification');
    // what a card needs to repeat a run from random weights: the preset and the tokenizer it was sized to
    const record = JSON.parse(fs.readFileSync(path.join(dir, 'a', 'finetune.json'), 'utf8'));
    assert.equal(record.options.model, 'init:tiny');
    assert.equal(record.options.tokenizer, tokenizer);
  });
});

describe('revmux finetune, T5 and LLaMA verbalizers', () => {
  for (const kind of ['t5', 'llama'] as const) {
    it(`${kind}: all weights train through the label words and lift accuracy above chance`, async () => {
      const { parseConfig } = await import('../../src/models/config.js');
      const { createModel } = await import('../../src/models/init.js');
      const { saveModel } = await import('../../src/models/save.js');
      const { syntheticTokenizerJson } = await import('../../src/data/synthetic.js');
      const vocab = Object.keys((syntheticTokenizerJson().model as { vocab: object }).vocab).length;
      const config =
        kind === 't5'
          ? parseConfig({
              model_type: 't5',
              vocab_size: vocab,
              d_model: 32,
              d_kv: 8,
              d_ff: 64,
              num_layers: 2,
              num_decoder_layers: 1,
              num_heads: 4,
              relative_attention_num_buckets: 8,
              relative_attention_max_distance: 32,
            })
          : parseConfig({
              model_type: 'llama',
              vocab_size: vocab,
              hidden_size: 32,
              intermediate_size: 64,
              num_hidden_layers: 2,
              num_attention_heads: 4,
              num_key_value_heads: 2,
              initializer_range: 0.2,
            });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `revmux-ft-${kind}-`));
      const start = path.join(dir, 'start');
      saveModel(createModel(config, { seed: 1 }), start);
      fs.writeFileSync(path.join(start, 'tokenizer.json'), JSON.stringify(syntheticTokenizerJson()));
      const r = await finetune({
        model: start,
        task: 'synthetic',
        dataDir: null,
        out: path.join(dir, 'out'),
        epochs: 2,
        batchSize: 32,
        lr: 3e-3,
        limitTrain: 2000,
        limitDev: 300,
        seed: 2,
        quiet: true,
        log: () => {},
      });
      assert.ok(r.bestDevAccuracy > 0.75, `${kind} fine-tuned dev accuracy ${r.bestDevAccuracy} (chance 0.5)`);
      assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'out', 'config.json'), 'utf8')).model_type, kind);
      // the label words' rows are trained weights: the run's own evaluation must score the weights it saved
      // (it once read the rows as constants baked in before training, and reported another model's accuracy)
      const { loadModel } = await import('../../src/models/load.js');
      const { prepareDevFeatures } = await import('../../src/mux/task-features.js');
      const { sisoAccuracy } = await import('../../src/mux/features.js');
      const out = path.join(dir, 'out');
      const saved = await prepareDevFeatures(loadModel(out), {
        model: out,
        task: 'synthetic',
        dataDir: null,
        l: 0,
        limitDev: 300,
        quiet: true,
      });
      assert.equal(sisoAccuracy(saved), r.bestDevAccuracy, `${kind}: the saved model's dev accuracy`);
    });
  }

  it("gives a fresh preset exactly the tokenizer's vocabulary", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-ft-vocab-'));
    const tok = path.join(dir, 'tok');
    fs.mkdirSync(tok);
    fs.writeFileSync(path.join(tok, 'tokenizer.json'), JSON.stringify(syntheticTokenizerJson()));
    const small = {
      hidden_size: 16,
      intermediate_size: 32,
      num_attention_heads: 2,
      num_hidden_layers: 1,
      max_position_embeddings: 64,
    };
    const tinyRun = {
      init: 'tiny',
      task: 'synthetic' as const,
      dataDir: null,
      epochs: 1,
      limitTrain: 64,
      limitDev: 32,
      quiet: true,
      log: () => {},
    };
    await finetune({
      init: 'tiny',
      initConfig: small,
      tokenizer: tok,
      task: 'synthetic',
      dataDir: null,
      out: path.join(dir, 'm'),
      epochs: 1,
      limitTrain: 64,
      limitDev: 32,
      quiet: true,
      log: () => {},
    });
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'm', 'config.json'), 'utf8'));
    assert.equal(cfg.vocab_size, TextTokenizer.load(tok).vocabSize);
    // --arch llama: the decoder of `revmux pretrain --arch llama`, answering with label words
    await finetune({
      init: 'tiny',
      arch: 'llama',
      initConfig: { ...small, num_key_value_heads: 2 },
      tokenizer: tok,
      task: 'synthetic',
      dataDir: null,
      out: path.join(dir, 'd'),
      epochs: 1,
      limitTrain: 64,
      limitDev: 32,
      quiet: true,
      log: () => {},
    });
    const dec = JSON.parse(fs.readFileSync(path.join(dir, 'd', 'config.json'), 'utf8'));
    assert.deepEqual(
      [dec.model_type, dec.architectures[0], dec.vocab_size],
      ['llama', 'LlamaForCausalLM', cfg.vocab_size],
    );
    // --arch t5: an encoder-decoder of the same size, answering with label words at decoder step 1
    const t5Small = { d_model: 16, d_kv: 8, d_ff: 32, num_heads: 2, num_layers: 1, num_decoder_layers: 1 };
    await finetune({ ...tinyRun, arch: 't5', initConfig: t5Small, tokenizer: tok, out: path.join(dir, 't') });
    const t5 = JSON.parse(fs.readFileSync(path.join(dir, 't', 'config.json'), 'utf8'));
    assert.deepEqual(
      [t5.model_type, t5.architectures[0], t5.vocab_size, t5.num_decoder_layers, t5.feed_forward_proj],
      ['t5', 'T5ForConditionalGeneration', cfg.vocab_size, 1, 'relu'],
    );
    await assert.rejects(
      finetune({ ...tinyRun, arch: 'qwen2', tokenizer: tok, out: path.join(dir, 'q') }),
      /cannot make a "qwen2" model from random weights \(families that can: bert, t5, llama\)/,
    );
  });
});
