// revmux export and the library API: the exported ONNX files run without revmux (onnxruntime-node,
// onnxruntime-web's wasm build, transformers.js's pipeline) and give revmux's own numbers; the Triton
// configuration matches the graph it describes; bad input is refused by name.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import * as ortNode from 'onnxruntime-node';
import onnx from 'onnx-proto';
import { syntheticTokenizerJson } from '../../src/data/synthetic.js';
import { padRows } from '../../src/data/padding.js';
import { exportModel } from '../../src/export/onnx.js';
import { RevmuxClassifier } from '../../src/index.js';
import { TextTokenizer } from '../../src/io/tokenizer.js';
import { createModel } from '../../src/models/init.js';
import { loadModel } from '../../src/models/load.js';
import { bertPreset } from '../../src/models/presets.js';
import { saveModel } from '../../src/models/save.js';
import { LAYOUT, baseModelInfo, revmuxVersion, saveAdapter } from '../../src/mux/adapter.js';
import { initAdapter } from '../../src/mux/spec.js';
import { SHARED_DATA } from '../helpers/shared-data.js';

const TEXTS = ['a gripping , funny film', 'two hours i will not get back', 'the cast is fine', 'it is a movie'];
let dir = '';
let model = '';
let adapter = '';

/** Softmax probability of each label from [.., 2] logits. */
const probs = (l: ArrayLike<number>, i: number) => {
  const m = Math.max(l[2 * i], l[2 * i + 1]);
  const a = Math.exp(l[2 * i] - m);
  const b = Math.exp(l[2 * i + 1] - m);
  return [a / (a + b), b / (a + b)];
};

/** [G, N, S] feeds of `texts` taken N at a time, the last group padded with empty slots. */
function groupFeeds(tok: TextTokenizer, texts: string[], n: number) {
  const enc = texts.map((t) => tok.encode(t));
  const groups = Math.ceil(texts.length / n);
  const b = padRows(enc, tok.padId, { rows: groups * n });
  const shape = [groups, n, b.seq];
  return {
    input_ids: { data: b.inputIds, shape },
    attention_mask: { data: b.attentionMask, shape },
    token_type_ids: { data: b.tokenTypeIds, shape },
  };
}

describe('revmux export', () => {
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-export-'));
    let tokDir = path.join(SHARED_DATA, 'tokenizers/bert-base-uncased');
    if (!fs.existsSync(tokDir)) {
      if (process.env.CI) assert.fail(`CI is set but ${tokDir} is missing`);
      tokDir = path.join(dir, 'tok');
      fs.mkdirSync(tokDir);
      fs.writeFileSync(path.join(tokDir, 'tokenizer.json'), JSON.stringify(syntheticTokenizerJson()));
    }
    const vocab = TextTokenizer.load(tokDir).vocabSize;
    const config = bertPreset('tiny', {
      vocab_size: vocab,
      hidden_size: 32,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      intermediate_size: 64,
      num_labels: 2,
      id2label: { 0: 'negative', 1: 'positive' },
    });
    model = path.join(dir, 'model');
    saveModel(createModel(config, { seed: 5, heads: (x) => !x.startsWith('cls.') }), model, { tokenizerFrom: tokDir });
    const spec = { variant: 'revmux' as const, n: 2, l: 1, d: 32, dropout: 0.1 };
    adapter = path.join(dir, 'adapter');
    saveAdapter(
      adapter,
      {
        revmux_version: revmuxVersion(),
        ...spec,
        layout: LAYOUT,
        task: 'sst2',
        label_words: ['negative', 'positive'],
        label_ids: null,
        base_model: baseModelInfo(loadModel(model)),
        training: { note: 'random' },
      },
      initAdapter(spec, 9),
    );
  });

  it("writes a multiplexed file that onnxruntime-node and onnxruntime-web run to revmux's scores", async () => {
    const out = path.join(dir, 'mux');
    const r = await exportModel({ model, adapter, out });
    const m = r.manifest;
    assert.equal(m.kind, 'multiplexed');
    assert.equal(m.n, 2);
    assert.deepEqual(m.outputs, [{ name: 'logits', dtype: 'float32', shape: ['groups', 2, 2] }]);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'revmux.json'), 'utf8')), m);
    for (const f of ['tokenizer.json', 'config.json']) assert.ok(fs.existsSync(path.join(out, f)), f);

    const clf = await RevmuxClassifier.load({ model, adapter });
    assert.deepEqual(clf.availableN, [1, 2]);
    const mine = await clf.classify(TEXTS.slice(0, 3)); // 3 inputs: the second group has an empty slot
    assert.equal(mine.length, 3);

    const tok = TextTokenizer.load(out);
    const feeds = groupFeeds(tok, TEXTS.slice(0, 3), 2);
    const node = await ortNode.InferenceSession.create(r.onnx);
    const nodeOut = await node.run(
      Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ortNode.Tensor('int64', v.data, v.shape)])),
    );
    assert.deepEqual(nodeOut.logits.dims, [2, 2, 2]);
    const ortWeb = await import('onnxruntime-web');
    ortWeb.env.wasm.numThreads = 1;
    const web = await ortWeb.InferenceSession.create(fs.readFileSync(r.onnx), { executionProviders: ['wasm'] });
    const webOut = await web.run(
      Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ortWeb.Tensor('int64', v.data, v.shape)])),
    );
    for (let i = 0; i < 3; i++) {
      for (const logits of [nodeOut.logits.data as Float32Array, webOut.logits.data as Float32Array]) {
        const p = probs(logits, i);
        const label = p[1] > p[0] ? 'positive' : 'negative';
        assert.equal(mine[i].label, label, `input ${i}`);
        assert.ok(Math.abs(mine[i].score - Math.max(...p)) < 1e-5, `input ${i}: ${mine[i].score} vs ${Math.max(...p)}`);
      }
      const w = webOut.logits.data as Float32Array;
      const nd = nodeOut.logits.data as Float32Array;
      assert.ok(
        Math.abs(w[2 * i] - nd[2 * i]) < 1e-4 && Math.abs(w[2 * i + 1] - nd[2 * i + 1]) < 1e-4,
        'wasm and native agree to 1e-4',
      );
    }
  });

  it('uses standard ONNX operators only, and external data reads back the same', async () => {
    const out = path.join(dir, 'mux-ext');
    const r = await exportModel({ model, adapter, out, externalData: true });
    assert.equal(r.manifest.external_data, 'model.onnx_data');
    const proto = onnx.onnx.ModelProto.decode(fs.readFileSync(r.onnx));
    assert.deepEqual(
      proto.opsetImport.map((o) => o.domain ?? ''),
      [''],
    );
    assert.ok(
      proto.graph!.node!.every((nd) => !nd.domain),
      'no node outside the standard domain',
    );
    assert.ok(proto.graph!.initializer!.some((t) => t.dataLocation === onnx.onnx.TensorProto.DataLocation.EXTERNAL));
    const tok = TextTokenizer.load(out);
    const feeds = groupFeeds(tok, TEXTS, 2);
    const run = async (file: string) => {
      const s = await ortNode.InferenceSession.create(file);
      return (
        await s.run(
          Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ortNode.Tensor('int64', v.data, v.shape)])),
        )
      ).logits.data as Float32Array;
    };
    assert.deepEqual(await run(r.onnx), await run(path.join(dir, 'mux', 'model.onnx')));
  });

  it("writes the SISO classifier as a folder transformers.js loads, with revmux's labels and scores", async () => {
    const out = path.join(dir, 'siso');
    const r = await exportModel({ model, out });
    assert.equal(r.onnx, path.join(out, 'onnx', 'model.onnx'));
    assert.equal(r.manifest.kind, 'siso');
    const { pipeline, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = '/';
    const pipe = await pipeline('text-classification', path.resolve(out), {
      local_files_only: true,
      dtype: 'fp32',
      device: 'cpu',
    });
    const theirs = (await pipe(TEXTS)) as { label: string; score: number }[];
    const mine = await (await RevmuxClassifier.load({ model })).classify(TEXTS);
    assert.equal(theirs.length, TEXTS.length);
    theirs.forEach((t, i) => {
      assert.equal(t.label, mine[i].label, `input ${i}`);
      assert.ok(Math.abs(t.score - mine[i].score) < 1e-5, `input ${i}: ${t.score} vs ${mine[i].score}`);
    });
  });

  it("exports int8 in standard operators that onnxruntime-node and -web run to revmux's int8 scores", async () => {
    const out = path.join(dir, 'mux-int8');
    const r = await exportModel({ model, adapter, out, precision: 'int8' });
    assert.equal(r.manifest.precision, 'int8');
    assert.deepEqual(r.manifest.operator_domains, ['ai.onnx']);
    for (const op of ['DynamicQuantizeLinear', 'MatMulInteger']) assert.ok(r.manifest.operators.includes(op), op);
    const proto = onnx.onnx.ModelProto.decode(fs.readFileSync(r.onnx));
    const int8 = proto.graph!.initializer!.filter((t) => t.dataType === onnx.onnx.TensorProto.DataType.INT8);
    assert.equal(int8.length, 2 * 6 + 2, 'six Linear layers per BERT layer, the pooler and the classifier');
    assert.ok(
      !proto.graph!.node!.some((nd) => nd.opType === 'MatMul' && int8.some((t) => nd.input!.includes(t.name!))),
    );
    const names = new Set(proto.graph!.initializer!.map((t) => t.name!));
    for (const t of int8)
      assert.ok(!names.has(t.name!.replace(/\.int8_\d+$/, '')), `${t.name}: its float32 original is not stored too`);
    const mine = await (await RevmuxClassifier.load({ model, adapter, precision: 'int8' })).classify(TEXTS);
    const tok = TextTokenizer.load(out);
    const feeds = groupFeeds(tok, TEXTS, 2);
    const node = await ortNode.InferenceSession.create(r.onnx);
    const nodeOut = (
      await node.run(
        Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ortNode.Tensor('int64', v.data, v.shape)])),
      )
    ).logits.data as Float32Array;
    const ortWeb = await import('onnxruntime-web');
    ortWeb.env.wasm.numThreads = 1;
    const web = await ortWeb.InferenceSession.create(fs.readFileSync(r.onnx), { executionProviders: ['wasm'] });
    const webOut = (
      await web.run(
        Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ortWeb.Tensor('int64', v.data, v.shape)])),
      )
    ).logits.data as Float32Array;
    TEXTS.forEach((_, i) => {
      for (const logits of [nodeOut, webOut])
        assert.ok(Math.abs(mine[i].score - Math.max(...probs(logits, i))) < 1e-5, `input ${i}`);
    });
  });

  it('exports the SISO classifier in int8 as the model_quantized.onnx that transformers.js loads for q8', async () => {
    const out = path.join(dir, 'siso-int8');
    const r = await exportModel({ model, out, precision: 'int8' });
    assert.equal(r.onnx, path.join(out, 'onnx', 'model_quantized.onnx'));
    const { pipeline, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = '/';
    const pipe = await pipeline('text-classification', path.resolve(out), {
      local_files_only: true,
      dtype: 'q8',
      device: 'cpu',
    });
    const theirs = (await pipe(TEXTS)) as { label: string; score: number }[];
    const mine = await (await RevmuxClassifier.load({ model, precision: 'int8' })).classify(TEXTS);
    theirs.forEach((t, i) => {
      assert.equal(t.label, mine[i].label, `input ${i}`);
      assert.ok(Math.abs(t.score - mine[i].score) < 1e-5, `input ${i}: ${t.score} vs ${mine[i].score}`);
    });
  });

  it('writes a Triton model repository whose config matches the graph', async () => {
    const out = path.join(dir, 'triton');
    const r = await exportModel({ model, adapter, out, format: 'triton' });
    assert.equal(r.onnx, path.join(out, 'revmux_sst2_n2', '1', 'model.onnx'));
    const pbtxt = fs.readFileSync(path.join(out, 'revmux_sst2_n2', 'config.pbtxt'), 'utf8');
    assert.match(pbtxt, /^name: "revmux_sst2_n2"$/m);
    assert.match(pbtxt, /^backend: "onnxruntime"$/m);
    assert.match(pbtxt, /^dynamic_batching \{/m);
    // every graph input and output appears with its type and its dims after the batch dimension
    const proto = onnx.onnx.ModelProto.decode(fs.readFileSync(r.onnx));
    const blocks = [...pbtxt.matchAll(/name: "(\w+)"\n\s+data_type: (\w+)\n\s+dims: \[ ([^\]]*) \]/g)].map((x) => ({
      name: x[1],
      type: x[2],
      dims: x[3].split(', ').map(Number),
    }));
    const graphTensors = [...proto.graph!.input!, ...proto.graph!.output!];
    assert.deepEqual(
      blocks.map((b) => b.name),
      graphTensors.map((t) => t.name),
    );
    for (const t of graphTensors) {
      const b = blocks.find((x) => x.name === t.name)!;
      const dims = t.type!.tensorType!.shape!.dim!.slice(1).map((d) => (d.dimParam ? -1 : Number(d.dimValue)));
      assert.deepEqual(b.dims, dims, t.name ?? '');
      assert.equal(
        b.type,
        t.type!.tensorType!.elemType === onnx.onnx.TensorProto.DataType.INT64 ? 'TYPE_INT64' : 'TYPE_FP32',
        t.name ?? '',
      );
    }
  });

  it('refuses bad input by name', async () => {
    await assert.rejects(
      exportModel({ model, adapter, out: path.join(dir, 'bad'), format: 'triton', name: 'no spaces allowed' }),
      /Triton model name/,
    );
    await assert.rejects(exportModel({ model: dir, out: path.join(dir, 'bad2') }), /no tokenizer.json/);
    const clf = await RevmuxClassifier.load({ model, adapter });
    await assert.rejects(clf.classify(['word '.repeat(5000)]), /input 0: .* over the limit of/);
    await assert.rejects(RevmuxClassifier.load({ model, adapter, n: 4 }), /n = 4: no adapter/);
    await assert.rejects(
      RevmuxClassifier.load({ model, precision: 'fp16' as 'fp32' }),
      /precision: unknown precision 'fp16'/,
    );
  });
});

describe('RevmuxClassifier', () => {
  it('gives one prediction per input in order, with or without cross-call batching', async () => {
    const solo = await RevmuxClassifier.load({ model, n: 1 });
    const batched = await RevmuxClassifier.load({ model, n: 1, batching: { maxDelayMs: 20 } });
    const one = await solo.classify(TEXTS);
    const parts = await Promise.all(TEXTS.map((t) => batched.classify(t))); // concurrent calls share a batch
    assert.deepEqual(
      parts.map((p) => p[0].label),
      one.map((p) => p.label),
    );
    parts.forEach((p, i) => assert.ok(Math.abs(p[0].score - one[i].score) < 1e-5));
    assert.deepEqual(solo.labels, ['negative', 'positive']);
    const pair = await solo.classify([['the film', 'a movie']]);
    assert.equal(pair.length, 1);
    await batched.close();
  });
});
