// DataMUX and MUX-PLM end to end at N = 2 on the synthetic task with a tiny BERT: DataMUX learns
// the task and resumes exactly (retrieval loss on); MUX-PLM is pretrained under multiplexing on a
// small corpus, fine-tuned from that folder, and evaluated with the pairing protocol.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { compile } from '../../src/engine/runtime.js';
import { encodeExamples } from '../../src/data/batching.js';
import { loadExamples } from '../../src/data/glue.js';
import { syntheticExamples, syntheticTokenizerJson } from '../../src/data/synthetic.js';
import { predictFullMux } from '../../src/eval/full-mux.js';
import { evaluateWith } from '../../src/eval/pairing.js';
import { SafetensorsFile } from '../../src/io/safetensors.js';
import { TextTokenizer } from '../../src/io/tokenizer.js';
import { parseConfig } from '../../src/models/config.js';
import { createModel } from '../../src/models/init.js';
import { saveModel } from '../../src/models/save.js';
import { allParams, loadFullMux, readFullMuxConfig } from '../../src/baselines/full-model.js';
import { fullMuxGraph } from '../../src/baselines/full-mux-graph.js';
import { type FullMuxFinetuneOptions, finetuneFullMux } from '../../src/train/full-mux-train.js';
import { pretrain } from '../../src/train/pretrain.js';

/** A tiny random BERT over the synthetic task's vocabulary, plus 3 spare ids for DataMUX's prefix tokens. */
function tinyBertFolder(dir: string): string {
  const vocab = Object.keys((syntheticTokenizerJson().model as { vocab: object }).vocab).length;
  const m = createModel(
    parseConfig({
      model_type: 'bert',
      vocab_size: vocab + 3,
      hidden_size: 32,
      intermediate_size: 64,
      num_attention_heads: 2,
      num_hidden_layers: 2,
      max_position_embeddings: 160,
    }),
    { seed: 3, heads: () => false },
  );
  const out = path.join(dir, 'base');
  saveModel(m, out);
  fs.writeFileSync(path.join(out, 'tokenizer.json'), JSON.stringify(syntheticTokenizerJson()));
  return out;
}

describe('DataMUX baseline', () => {
  it('learns the synthetic task at N = 2, writes a loadable folder, and resumes exactly', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-datamux-'));
    const base = tinyBertFolder(dir);
    const common: FullMuxFinetuneOptions = {
      method: 'datamux',
      n: 2,
      model: base,
      task: 'synthetic',
      dataDir: null,
      out: '',
      batchSize: 32,
      lr: 3e-3,
      limitDev: 300,
      seed: 9,
      quiet: true,
      log: () => {},
    };
    const r = await finetuneFullMux({
      ...common,
      out: path.join(dir, 'learn'),
      epochs: 2,
      limitTrain: 8000,
      retrievalWeight: 0,
    });
    assert.ok(r.bestDevAccuracy > 0.75, `DataMUX N=2 dev accuracy ${r.bestDevAccuracy} (chance 0.5)`);
    const cfg = readFullMuxConfig(path.join(dir, 'learn'));
    assert.equal(cfg.method, 'datamux');
    assert.deepEqual(cfg.index_ids.length, 2);

    // with the retrieval loss on: an interrupted run resumed from its checkpoint ends bit-identical
    const small = { ...common, epochs: 2, limitTrain: 320, evalEvery: 5, retrievalWeight: 0.1 };
    const straight = await finetuneFullMux({ ...small, out: path.join(dir, 'a') });
    assert.equal(straight.steps, 20);
    await finetuneFullMux({ ...small, out: path.join(dir, 'b'), abortAfterSteps: 10 });
    const resumed = await finetuneFullMux({ ...small, out: path.join(dir, 'b') });
    assert.deepEqual(resumed.history, straight.history);
    for (const f of ['model.safetensors', 'mux.safetensors']) {
      const a = SafetensorsFile.open(path.join(dir, 'a', f));
      const b = SafetensorsFile.open(path.join(dir, 'b', f));
      for (const n of a.names()) assert.deepEqual(b.readFloat32(n), a.readFloat32(n), `${f}: ${n} after resume`);
    }
    // patience: with a zero learning rate only the first evaluation is an improvement, so the run ends after
    // 1 + patience of them, also when resumed between (the count of stale evaluations comes from the history)
    const still = { ...small, lr: 0, epochs: 5, patience: 2, retrievalWeight: 0 };
    const stopped = await finetuneFullMux({ ...still, out: path.join(dir, 'p') });
    assert.deepEqual(
      stopped.history.map((h) => h.step),
      [5, 10, 15],
    );
    assert.equal(stopped.epochsTrained, 1.5);
    await finetuneFullMux({ ...still, out: path.join(dir, 'q'), abortAfterSteps: 10 });
    const stoppedResumed = await finetuneFullMux({ ...still, out: path.join(dir, 'q') });
    assert.deepEqual(stoppedResumed.history, stopped.history);
    await assert.rejects(finetuneFullMux({ ...still, patience: 0, out: path.join(dir, 'r') }), /patience must be/);
    await assert.rejects(
      finetuneFullMux({
        ...common,
        method: 'muxplm',
        model: path.join(dir, 'learn'),
        out: path.join(dir, 'c'),
        epochs: 1,
        limitTrain: 64,
      }),
      /a datamux model cannot be fine-tuned as muxplm/,
    );
  });
});

describe('MUX-PLM baseline', () => {
  it('pretrains under multiplexing, fine-tunes from that folder at N = 2, and evaluates over pairings', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-muxplm-'));
    const base = tinyBertFolder(dir);
    const corpus = path.join(dir, 'corpus.txt');
    // a fixed cycle of the task's words from random starting points: every token follows from its neighbours
    const words = [...new Set(syntheticExamples('train', 200, 77).flatMap((e) => e.textA.split(' ')))].slice(0, 24);
    fs.writeFileSync(
      corpus,
      Array.from({ length: 600 }, (_, i) =>
        Array.from({ length: 20 }, (_, j) => words[(i * 7 + j) % words.length]).join(' '),
      ).join('\n') + '\n',
    );
    const pre = await pretrain({
      corpus,
      tokenizer: base,
      model: base,
      out: path.join(dir, 'pre'),
      mux: 2,
      priming: 0.25,
      seqLen: 32,
      batchSize: 16,
      lr: 2e-3,
      maxSteps: 120,
      evalEvery: 40,
      heldOutSequences: 32,
      seed: 4,
      quiet: true,
      log: () => {},
    });
    assert.ok(
      pre.history[pre.history.length - 1].heldout_loss < pre.history[0].heldout_loss - 0.5,
      `multiplexed MLM held-out loss fell: ${pre.history.map((h) => h.heldout_loss.toFixed(3)).join(' -> ')}`,
    );
    const preCfg = readFullMuxConfig(path.join(dir, 'pre'));
    assert.equal(preCfg.stage, 'pretrained');
    assert.equal(preCfg.num_labels, 0);

    const out = path.join(dir, 'ft');
    const r = await finetuneFullMux({
      method: 'muxplm',
      n: 2,
      model: path.join(dir, 'pre'),
      task: 'synthetic',
      dataDir: null,
      out,
      epochs: 2,
      batchSize: 32,
      lr: 3e-3,
      limitTrain: 6000,
      limitDev: 300,
      seed: 9,
      quiet: true,
      log: () => {},
    });
    assert.ok(r.bestDevAccuracy > 0.75, `MUX-PLM N=2 dev accuracy ${r.bestDevAccuracy} (chance 0.5)`);
    const { model, config } = loadFullMux(out);
    assert.equal(config.demux_layers, 3);
    assert.ok(model.head.has('demux.dense_mid.weight') && model.head.has('demux.classifier.weight'));

    const params = allParams(model);
    const session = await compile(
      fullMuxGraph(model.bert, model.settings, params, model.vectors, { objective: 'task', training: false, seed: 0 }),
    );
    const tok = TextTokenizer.load(out);
    const dev = encodeExamples(tok, loadExamples('synthetic', 'dev', null).slice(0, 300), 128);
    const labels = dev.map((e) => e.label);
    const e = await evaluateWith(
      (order) => predictFullMux(session, params, model.settings, dev, order, tok.padId),
      { variant: 'muxplm', n: 2, l: 0, labels, sisoPred: labels },
      { pairings: 3, quiet: true },
    );
    assert.equal(e.accuracies.length, 3);
    assert.ok(e.mean > 0.7, `mean accuracy over pairings ${e.mean}`);
    assert.equal(e.siso_accuracy, 1);
    assert.ok(
      e.slot_accuracy.every((a) => a > 0.6),
      `every slot answered: ${e.slot_accuracy}`,
    );
  });
});
