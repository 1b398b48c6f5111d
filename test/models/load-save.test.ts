import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type HostTensor, float32 } from '../../src/engine/runtime.js';
import { f16ToF32, f32ToF16 } from '../../src/io/half.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { parseConfig } from '../../src/models/config.js';
import { runForward } from '../../src/models/forward.js';
import { createModel } from '../../src/models/init.js';
import { loadModel } from '../../src/models/load.js';
import { saveModel } from '../../src/models/save.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-model-'));
const ids = (rows: number[][]): HostTensor => ({
  data: BigInt64Array.from(rows.flat(), BigInt),
  shape: [rows.length, rows[0].length],
});

const tinyBert = parseConfig({
  model_type: 'bert',
  vocab_size: 50,
  hidden_size: 8,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 16,
  max_position_embeddings: 16,
  id2label: { 0: 'no', 1: 'yes', 2: 'maybe' },
});
const tinyT5v11 = parseConfig({
  model_type: 't5',
  vocab_size: 40,
  d_model: 8,
  d_kv: 4,
  d_ff: 12,
  num_layers: 2,
  num_decoder_layers: 1,
  num_heads: 2,
  feed_forward_proj: 'gated-gelu',
  tie_word_embeddings: false,
  relative_attention_num_buckets: 8,
  relative_attention_max_distance: 16,
});
const tinyLlama = parseConfig({
  model_type: 'llama',
  vocab_size: 30,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 1,
  tie_word_embeddings: true,
  rope_scaling: {
    rope_type: 'llama3',
    factor: 8,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 8,
  },
});

const tinyDistilBert = parseConfig({
  model_type: 'distilbert',
  vocab_size: 50,
  dim: 8,
  n_layers: 2,
  n_heads: 2,
  hidden_dim: 16,
  max_position_embeddings: 16,
});
const tinyRoberta = parseConfig({
  model_type: 'roberta',
  vocab_size: 50,
  hidden_size: 8,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 16,
  max_position_embeddings: 20,
  type_vocab_size: 1,
});
const tinyQwen2 = parseConfig({
  model_type: 'qwen2',
  vocab_size: 30,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  tie_word_embeddings: true,
});
const tinyQwen3 = parseConfig({
  model_type: 'qwen3',
  vocab_size: 30,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 8,
  tie_word_embeddings: true,
});

const inputsFor = (modelType: string): Record<string, HostTensor> => {
  const f: Record<string, HostTensor> = {
    input_ids: ids([
      [3, 7, 9, 2],
      [5, 1, 0, 0],
    ]),
    attention_mask: ids([
      [1, 1, 1, 1],
      [1, 1, 0, 0],
    ]),
  };
  if (modelType === 't5')
    f.decoder_input_ids = ids([
      [0, 4, 6],
      [0, 8, 2],
    ]);
  return f;
};

describe('config parsing', () => {
  it('applies Hugging Face defaults and names the bad field', () => {
    const c = parseConfig({ model_type: 'bert' });
    assert.equal(c.model_type === 'bert' && c.hidden_size, 768);
    assert.equal(c.model_type === 'bert' && c.layer_norm_eps, 1e-12);
    const t5 = parseConfig({ model_type: 't5', num_layers: 3 });
    assert.equal(t5.model_type === 't5' && t5.num_decoder_layers, 3);
    const llama = parseConfig({ model_type: 'llama', num_attention_heads: 32 });
    assert.equal(llama.model_type === 'llama' && llama.num_key_value_heads, 32);
    assert.throws(
      () => parseConfig({ model_type: 'bert', hidden_size: '768' }, 'x/config.json'),
      /x\/config.json: "hidden_size" must be an integer >= 1, got "768"/,
    );
    assert.throws(
      () => parseConfig({ model_type: 'gpt2' }, 'x/config.json'),
      new RegExp(
        String.raw`model_type "gpt2" is not supported \(supported: ` +
          String.raw`bert, roberta, xlm-roberta, distilbert, t5, llama, qwen2, qwen3\)`,
      ),
    );
    assert.throws(() => parseConfig({ model_type: 'bert', hidden_act: 'swish' }), /"hidden_act" must be one of/);
    assert.throws(
      () => parseConfig({ model_type: 't5', feed_forward_proj: 'gated-foo' }),
      /activation 'foo' is not supported/,
    );
    assert.throws(
      () => parseConfig({ model_type: 'llama', num_attention_heads: 6, num_key_value_heads: 4, hidden_size: 48 }),
      /not a multiple of num_key_value_heads/,
    );
  });
});

describe('loading errors', () => {
  it('a folder with only pytorch_model.bin says how to convert it', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'bert' }));
    fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), 'pickle');
    assert.throws(() => loadModel(dir), /no model.safetensors.*pytorch_model\.bin.*safe_serialization=True/s);
  });
  it('no config.json, or an unsupported model_type, is named', () => {
    const dir = tmp();
    assert.throws(() => loadModel(dir), /no config.json/);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt_neox' }));
    assert.throws(() => loadModel(dir), /model_type "gpt_neox" is not supported/);
  });
  it('weights that do not match the config list what is missing, misshapen and unexpected', () => {
    const dir = tmp();
    saveModel(createModel(tinyBert), dir);
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    // rename one tensor and change a shape in the config
    const m = loadModel(dir);
    const tensors = Object.fromEntries(
      m.weights
        .entries()
        .map(([n, w]) => [
          n === 'encoder.layer.1.output.dense.bias' ? 'encoder.layer.1.output.dense.b' : `bert.${n}`,
          { shape: w.shape, data: w.data },
        ]),
    );
    writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, intermediate_size: 20 }));
    assert.throws(
      () => loadModel(dir),
      (e: Error) =>
        /the weights do not match the config/.test(e.message) &&
        /missing \(1\): encoder\.layer\.1\.output\.dense\.bias \[8\]/.test(e.message) &&
        /wrong shape.*bert\.encoder\.layer\.0\.intermediate\.dense\.weight: /s.test(e.message) &&
        /intermediate\.dense\.weight: checkpoint \[16, 8\], config expects \[20, 8\]/.test(e.message) &&
        /unexpected \(1\): encoder\.layer\.1\.output\.dense\.b/.test(e.message),
    );
  });
});

describe('checkpoints that only partly fit', () => {
  const rewrite = (dir: string, edit: (t: Record<string, { shape: number[]; data: Float32Array }>) => void) => {
    const t = Object.fromEntries(
      loadModel(dir)
        .weights.entries()
        .map(([n, w]) => [
          n.startsWith('classifier.') || n.startsWith('cls.') ? n : `bert.${n}`,
          { shape: w.shape, data: w.data },
        ]),
    );
    edit(t);
    writeSafetensors(path.join(dir, 'model.safetensors'), t);
  };
  it('a config with fewer layers than the weights is refused, naming how many tensors go unused', () => {
    const dir = tmp();
    saveModel(createModel(tinyBert), dir);
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: 1 }));
    assert.throws(() => loadModel(dir), /unexpected \(16\): bert\.encoder\.layer\.1\.attention\.self\.query\.weight, /);
  });
  it('half a classifier head is refused, naming the missing tensor', () => {
    const dir = tmp();
    saveModel(createModel(tinyBert), dir); // pooler + classifier
    rewrite(dir, (t) => delete t['classifier.bias']);
    assert.throws(
      () => loadModel(dir),
      /missing \(1\): classifier\.bias \[3\] \(the checkpoint has the rest of the classifier head\)/,
    );
    saveModel(createModel(tinyBert), dir);
    rewrite(dir, (t) => {
      delete t['bert.pooler.dense.weight'];
      delete t['bert.pooler.dense.bias'];
    });
    assert.throws(
      () => loadModel(dir),
      /missing \(2\): pooler\.dense\.weight \[8, 8\] \(the classifier head reads the pooler\)/,
    );
  });
  it('buffers and other task heads that transformers skips load without complaint', () => {
    const dir = tmp();
    saveModel(createModel(tinyBert), dir);
    rewrite(dir, (t) => {
      t['bert.embeddings.position_ids'] = { shape: [1, 4], data: new Float32Array(4) };
      t['cls.seq_relationship.weight'] = { shape: [2, 8], data: new Float32Array(16) };
    });
    assert.ok(loadModel(dir).weights.has('classifier.weight'));
  });
});

describe('save and reload', () => {
  for (const config of [tinyBert, tinyT5v11, tinyLlama, tinyDistilBert, tinyRoberta, tinyQwen2, tinyQwen3]) {
    it(`${config.model_type}: a saved folder reloads to identical outputs`, async () => {
      const model = createModel(config, { seed: 3 });
      const dir = tmp();
      saveModel(model, dir, { extraConfig: { finetuning_task: 'test' } });
      const again = loadModel(dir);
      assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).finetuning_task, 'test');
      const a = await runForward(model, inputsFor(config.model_type));
      const b = await runForward(again, inputsFor(config.model_type));
      for (const k of Object.keys(a)) assert.deepEqual(Array.from(float32(b[k])), Array.from(float32(a[k])), k);
      assert.ok(Object.keys(a).includes('logits'));
    });
  }
  it('a sharded folder (model.safetensors.index.json) loads like a single file', async () => {
    const model = createModel(tinyLlama, { seed: 4 });
    const dir = tmp();
    saveModel(model, dir, { maxShardBytes: 4096 });
    assert.ok(fs.existsSync(path.join(dir, 'model.safetensors.index.json')));
    assert.ok(!fs.existsSync(path.join(dir, 'model.safetensors')));
    const a = await runForward(model, inputsFor('llama'));
    const b = await runForward(loadModel(dir), inputsFor('llama'));
    assert.deepEqual(Array.from(float32(b.logits)), Array.from(float32(a.logits)));
  });
  it('saves float16 weights (the committed backbones) that load as their rounded float32 values', () => {
    const model = createModel(tinyBert, { seed: 6 });
    const full = tmp();
    const half = tmp();
    saveModel(model, full);
    saveModel(model, half, { dtype: 'float16' });
    assert.equal(JSON.parse(fs.readFileSync(path.join(half, 'config.json'), 'utf8')).torch_dtype, 'float16');
    const size = (d: string) => fs.statSync(path.join(d, 'model.safetensors')).size;
    const elements = model.weights.entries().reduce((a, [, w]) => a + w.data.length, 0);
    assert.ok(
      Math.abs(size(full) - size(half) - 2 * elements) < 64,
      `two bytes saved per weight: ${size(half)} vs ${size(full)} bytes`,
    );
    const back = loadModel(half);
    let changed = 0;
    for (const [name, w] of model.weights.entries()) {
      const rounded = f16ToF32(f32ToF16(w.data as Float32Array));
      assert.deepEqual(Array.from(back.weights.get(name).data as Float32Array), Array.from(rounded), name);
      changed += rounded.filter((v, i) => v !== (w.data as Float32Array)[i]).length;
    }
    assert.ok(changed > 0, 'random weights do not all fit float16 exactly');
  });
  it('BERT task heads are stored with the bert. prefix, as transformers names them', () => {
    const dir = tmp();
    saveModel(createModel(tinyBert), dir);
    const names = Object.keys(
      JSON.parse(
        fs
          .readFileSync(path.join(dir, 'model.safetensors'))
          .subarray(8, 8 + Number(fs.readFileSync(path.join(dir, 'model.safetensors')).readBigUInt64LE(0)))
          .toString(),
      ),
    );
    assert.ok(names.includes('bert.embeddings.word_embeddings.weight'));
    assert.ok(names.includes('classifier.weight'));
    assert.equal(
      JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).architectures[0],
      'BertForSequenceClassification',
    );
  });
});

/** y = x W^T (+ b) for one row. */
const lin = (x: ArrayLike<number>, w: Float32Array, out: number, b?: Float32Array) =>
  Array.from({ length: out }, (_, o) => {
    let s = b ? b[o] : 0;
    for (let i = 0; i < x.length; i++) s += x[i] * w[o * x.length + i];
    return s;
  });

describe('heads against plain arithmetic', () => {
  it('T5 v1.1 with an untied head: logits = decoder output x lm_head^T (no rescale)', async () => {
    const model = createModel(tinyT5v11, { seed: 5 });
    const out = await runForward(model, inputsFor('t5'));
    const dec = float32(out.last_hidden_state);
    const logits = float32(out.logits);
    const head = model.weights.get('lm_head.weight').data;
    const d = 8;
    const row = lin(dec.subarray(0, d), head, 40);
    row.forEach((v, i) => assert.ok(Math.abs(v - logits[i]) < 1e-5, `logit ${i}`));
  });
  it('BERT masked-LM head: dense, GELU, LayerNorm, tied decoder plus bias', async () => {
    const cfg = parseConfig({ ...tinyBert, id2label: undefined, num_labels: 2 });
    const model = createModel(cfg, { seed: 9, heads: (n) => n.startsWith('cls.') });
    const out = await runForward(model, inputsFor('bert'));
    assert.equal(out.pooler_output, undefined);
    const h = float32(out.last_hidden_state).subarray(0, 8);
    const W = (n: string) => model.weights.get(n).data;
    const t = lin(h, W('cls.predictions.transform.dense.weight'), 8, W('cls.predictions.transform.dense.bias')).map(
      (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
    );
    const mean = t.reduce((a, b) => a + b, 0) / 8;
    const variance = t.reduce((a, b) => a + (b - mean) ** 2, 0) / 8;
    const n = t.map(
      (x, i) =>
        ((x - mean) / Math.sqrt(variance + 1e-12)) * W('cls.predictions.transform.LayerNorm.weight')[i] +
        W('cls.predictions.transform.LayerNorm.bias')[i],
    );
    const expected = lin(n, W('embeddings.word_embeddings.weight'), 50, W('cls.predictions.bias'));
    const logits = float32(out.logits);
    expected.forEach((v, i) => assert.ok(Math.abs(v - logits[i]) < 1e-4, `logit ${i}: ${logits[i]} vs ${v}`));
  });
});

/** Abramowitz-Stegun 7.1.26 is too coarse; use a series good to ~1e-9 on the small range used here. */
function erf(x: number): number {
  let sum = 0;
  let term = x;
  for (let n = 0; n < 60; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
