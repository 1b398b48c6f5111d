// RevMUX trains on T5 (decoder answer step, label-word verbalizer) and LLaMA-layout (LLaMA, Qwen2,
// Qwen3: last real token, label words) backbones. The backbones are tiny and random, so this checks the mechanics: the
// training loss falls and the adapters reach above-chance accuracy through the frozen layers.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { syntheticTokenizerJson } from '../../src/data/synthetic.js';
import { parseConfig } from '../../src/models/config.js';
import { createModel } from '../../src/models/init.js';
import { saveModel } from '../../src/models/save.js';
import { Graph } from '../../src/engine/graph.js';
import { ParamSet } from '../../src/engine/params.js';
import { compile, float32 } from '../../src/engine/runtime.js';
import { loadAdapter } from '../../src/mux/adapter.js';
import { trainMux } from '../../src/train/mux-train.js';

const vocab = Object.keys((syntheticTokenizerJson().model as { vocab: Record<string, number> }).vocab).length;
const configs = {
  t5: parseConfig({
    model_type: 't5',
    vocab_size: vocab,
    d_model: 32,
    d_kv: 8,
    d_ff: 64,
    num_layers: 3,
    num_decoder_layers: 1,
    num_heads: 4,
    relative_attention_num_buckets: 8,
    relative_attention_max_distance: 32,
    decoder_start_token_id: 0,
    dropout_rate: 0,
  }),
  // initializer_range 0.2: with the default 0.02 the random LM-head rows make label logits so small that
  // a short test cannot move them (T5's tied head is initialised at scale 1)
  llama: parseConfig({
    model_type: 'llama',
    vocab_size: vocab,
    hidden_size: 32,
    intermediate_size: 64,
    num_hidden_layers: 3,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    initializer_range: 0.2,
  }),
  qwen2: parseConfig({
    model_type: 'qwen2',
    vocab_size: vocab,
    hidden_size: 32,
    intermediate_size: 64,
    num_hidden_layers: 3,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    initializer_range: 0.2,
    tie_word_embeddings: true,
  }),
  qwen3: parseConfig({
    model_type: 'qwen3',
    vocab_size: vocab,
    hidden_size: 32,
    intermediate_size: 64,
    num_hidden_layers: 3,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 16,
    initializer_range: 0.2,
    tie_word_embeddings: true,
  }),
};

for (const [kind, config] of Object.entries(configs)) {
  describe(`RevMUX on a ${kind} backbone`, () => {
    it('trains through the frozen layers and records the label-word ids', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `revmux-${kind}-`));
      const backbone = path.join(dir, 'backbone');
      saveModel(createModel(config, { seed: 1 }), backbone);
      fs.writeFileSync(path.join(backbone, 'tokenizer.json'), JSON.stringify(syntheticTokenizerJson()));
      const out = path.join(dir, 'adapter');
      // a random frozen LLaMA carries the answer only at its last token: even N = 1 reaches ~0.63 here
      const r = await trainMux({
        model: backbone,
        task: 'synthetic',
        dataDir: null,
        out,
        variant: 'revmux',
        n: 2,
        l: 1,
        epochs: kind === 't5' ? 3 : 6,
        lr: 3e-3,
        limitTrain: 1500,
        limitDev: 300,
        evalEvery: 47,
        seed: 2,
        quiet: true,
        log: () => {},
      });
      const first = r.history[0].ce;
      const last = r.history[r.history.length - 1].ce;
      assert.ok(last < first, `cross-entropy fell: ${first} -> ${last}`);
      assert.ok(
        r.bestDevAccuracy > 0.58,
        `${kind} RevMUX N=2 dev accuracy ${r.bestDevAccuracy} (300 examples: chance 0.5 +- 0.03)`,
      );
      const { config: ac } = loadAdapter(out);
      assert.deepEqual(ac.label_ids, [55, 56]); // 'negative' and 'positive' in the synthetic vocabulary
      assert.equal(ac.base_model.model_type, kind);
    });
  });
}

// SISO fine-tuning feeds every weight as a graph input. The label-word head once read its LM-head rows as constants
// baked in when the graph was built: fine-tuning never trained them through the head, and its evaluation scored
// rows older than the weights it saved.
for (const [kind, config] of Object.entries(configs)) {
  it(`${kind}: label-word logits read the LM-head rows the graph is given`, async () => {
    const model = createModel(config, { seed: 1 });
    const params = new ParamSet();
    for (const [n, w] of model.weights.entries()) params.add(n, w.shape, Float32Array.from(w.data as Float32Array));
    const g = new Graph('label-logits');
    const declared = params.declare(g);
    const inputIds = g.input('input_ids', 'int64', ['batch', 'seq']);
    const attentionMask = g.input('attention_mask', 'int64', ['batch', 'seq']);
    const b = model.bind(g, { training: false, seed: 1, trainable: (n) => declared.get(n) });
    const head = model.taskHead({ labelIds: [55, 56] });
    const logits = head.siso(
      b,
      b.embed({ inputIds, attentionMask }),
      attentionMask,
      0,
      head.answerInputs(attentionMask),
    );
    g.output('logits', logits.logits);
    const session = await compile(g);
    const tokens = { data: BigInt64Array.from([5, 6, 7, 8].map(BigInt)), shape: [1, 4] };
    const run = async () =>
      float32(
        (
          await session.run({
            ...params.feeds(),
            input_ids: tokens,
            attention_mask: { ...tokens, data: new BigInt64Array(4).fill(1n) },
          })
        ).logits,
      );
    const before = await run();
    // double the label words' rows of every [vocab, d] table (the input ids above never read them)
    for (const p of params.list())
      if (p.shape[0] === vocab) p.data.subarray(55 * p.shape[1], 57 * p.shape[1]).forEach((x, i, a) => (a[i] = 2 * x));
    const after = await run();
    assert.ok(
      Math.abs(after[0] - 2 * before[0]) < 1e-4 && Math.abs(after[1] - 2 * before[1]) < 1e-4,
      `${kind}: logits ${[...before]} -> ${[...after]}, expected doubled`,
    );
  });
}
