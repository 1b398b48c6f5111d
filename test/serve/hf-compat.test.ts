// Existing clients work unchanged: Hugging Face's JavaScript client (@huggingface/inference, pointed at
// the server as an endpoint URL) and TEI-shaped POST /predict requests, over loopback, against the
// same server and model whose /classify answers they must match.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InferenceClient } from '@huggingface/inference';
import { syntheticTokenizerJson } from '../../src/data/synthetic.js';
import { createModel } from '../../src/models/init.js';
import { bertPreset } from '../../src/models/presets.js';
import { saveModel } from '../../src/models/save.js';
import { type RunningServer, startServer } from '../../src/serve/server.js';

let server: RunningServer;
const post = (route: string, body: unknown) =>
  fetch(`${server.url}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
    body: JSON.stringify(body),
  });

describe('Hugging Face and TEI request shapes', () => {
  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-hf-'));
    const tok = syntheticTokenizerJson();
    fs.mkdirSync(path.join(dir, 'tok'));
    fs.writeFileSync(path.join(dir, 'tok', 'tokenizer.json'), JSON.stringify(tok));
    const vocab = Object.keys((tok.model as { vocab: object }).vocab).length;
    const config = bertPreset('tiny', {
      vocab_size: vocab,
      hidden_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 32,
      num_labels: 2,
    });
    saveModel(createModel(config, { seed: 4, heads: (x) => !x.startsWith('cls.') }), path.join(dir, 'model'), {
      tokenizerFrom: path.join(dir, 'tok'),
    });
    server = await startServer({
      model: path.join(dir, 'model'),
      adapters: [],
      port: 0,
      calibrate: false,
      apiKey: 'k',
    });
    await server.ready;
  });
  after(async () => {
    await server.app.close();
  });

  it('answers @huggingface/inference textClassification as a Hugging Face endpoint would', async () => {
    const mine = (await (await post('/classify', { inputs: ['good movie'] })).json()) as {
      label: string;
      score: number;
    }[];
    const client = new InferenceClient('k').endpoint(server.url);
    const out = await client.textClassification({ inputs: 'good movie' });
    assert.equal(out.length, 2, 'every label, best first');
    assert.equal(out[0].label, mine[0].label);
    assert.ok(Math.abs(out[0].score - mine[0].score) < 1e-6);
    assert.ok(Math.abs(out[0].score + out[1].score - 1) < 1e-6);
    assert.ok(out[0].score >= out[1].score);
    const top1 = await client.textClassification({ inputs: 'good movie', parameters: { top_k: 1 } });
    assert.deepEqual(top1, [out[0]]);
  });

  it('answers TEI /predict: a flat list for one input, one list per input for several, pairs as arrays', async () => {
    const one = (await (await post('/predict', { inputs: 'good movie' })).json()) as { label: string; score: number }[];
    assert.equal(one.length, 2);
    assert.equal(typeof one[0].label, 'string');
    const many = (await (await post('/predict', { inputs: ['good movie', 'bad movie'] })).json()) as unknown[][];
    assert.equal(many.length, 2);
    assert.deepEqual(many[0], one);
    const pair = (await (await post('/predict', { inputs: [['good movie', 'bad movie']] })).json()) as unknown[][];
    const pairMine = (await (
      await post('/classify', { inputs: [{ text: 'good movie', text_pair: 'bad movie' }] })
    ).json()) as { label: string; score: number }[];
    assert.equal((pair[0][0] as { label: string }).label, pairMine[0].label);
  });

  it('refuses options that would change what the scores mean', async () => {
    const r = await post('/', { inputs: 'good movie', parameters: { function_to_apply: 'none' } });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { error: string }).error, /function_to_apply "none" is not supported/);
    assert.equal((await post('/predict', { inputs: 'good movie', raw_scores: true })).status, 400);
    assert.equal((await post('/', { inputs: 'good movie', parameters: { top_k: 0 } })).status, 400);
  });
});
