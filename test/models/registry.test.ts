// The backbone registry: one table from model_type to its family module; names what it supports;
// saves each family in transformers' own names; and nothing outside the family modules asks which
// backbone it holds (the code asks the backbone instead).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/models/config.js';
import { createModel } from '../../src/models/init.js';
import { ARCHITECTURES } from '../../src/models/registry.js';
import { saveModel } from '../../src/models/save.js';
import { sources } from '../helpers/sources.js';

/** Files that may name a family: the family modules and the registry. */
const FAMILY_MODULES = ['bert', 'distilbert', 'roberta', 't5', 'llama', 'qwen', 'registry', 'architecture'].map(
  (f) => `src/models/${f}.ts`,
);
/**
 * Features implemented for one family only, which check for it and say so: masked-LM pretraining and
 * next-token pretraining (BERT, LLaMA objectives), and the whole-model baselines DataMUX / MUX-PLM (BERT).
 */
const ONE_FAMILY_FEATURES = ['src/train/pretrain.ts', 'src/train/full-mux-train.ts', 'src/baselines/full-model.ts'];

describe('backbone registry', () => {
  it('lists every supported model_type when one is not', () => {
    assert.deepEqual(Object.keys(ARCHITECTURES).sort(), [
      'bert',
      'distilbert',
      'llama',
      'qwen2',
      'qwen3',
      'roberta',
      't5',
      'xlm-roberta',
    ]);
    assert.throws(
      () => parseConfig({ model_type: 'gpt2' }, 'x/config.json'),
      new RegExp(
        String.raw`x/config\.json: model_type "gpt2" is not supported \(supported: ` +
          String.raw`bert, roberta, xlm-roberta, distilbert, t5, llama, qwen2, qwen3\)`,
      ),
    );
  });

  it('saves each family under its own architecture name and transformers tensor names', () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [
        {
          model_type: 'distilbert',
          vocab_size: 20,
          dim: 8,
          n_layers: 1,
          n_heads: 2,
          hidden_dim: 16,
          max_position_embeddings: 8,
        },
        'DistilBertForSequenceClassification',
        'distilbert.transformer.layer.0.attention.q_lin.weight',
      ],
      [
        {
          model_type: 'roberta',
          vocab_size: 20,
          hidden_size: 8,
          num_hidden_layers: 1,
          num_attention_heads: 2,
          intermediate_size: 16,
          max_position_embeddings: 12,
        },
        'RobertaForSequenceClassification',
        'roberta.encoder.layer.0.attention.self.query.weight',
      ],
      [
        {
          model_type: 'qwen3',
          vocab_size: 20,
          hidden_size: 8,
          intermediate_size: 16,
          num_hidden_layers: 1,
          num_attention_heads: 2,
          head_dim: 8,
        },
        'Qwen3ForCausalLM',
        'model.layers.0.self_attn.q_norm.weight',
      ],
    ];
    for (const [json, architecture, tensor] of cases) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-registry-'));
      saveModel(createModel(parseConfig(json)), dir);
      const saved = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
      assert.deepEqual(saved.architectures, [architecture]);
      for (const [k, v] of Object.entries(json))
        assert.deepEqual(saved[k], v, `${architecture}: config.json keeps ${k}`);
      assert.ok(!('qk_norm' in saved) && !('qkv_bias' in saved), 'no fields of ours in config.json');
      const header = fs.readFileSync(path.join(dir, 'model.safetensors'));
      assert.ok(header.includes(Buffer.from(`"${tensor}"`)), `${architecture}: stores ${tensor}`);
    }
  });

  it('no code outside the family modules switches on the model type', () => {
    const pattern = new RegExp(
      [
        String.raw`(?<!typeof \w+\.)(modelType|model_type)\s*[!=]==\s*'`,
        String.raw`instanceof\s+(Bert|DistilBert|Roberta|T5|Llama)\b`,
        String.raw`case\s+'(bert|t5|llama|roberta|distilbert|qwen2|qwen3)'`,
      ].join('|'),
    );
    const offenders = sources('src')
      .filter((f) => !FAMILY_MODULES.includes(f) && !ONE_FAMILY_FEATURES.includes(f))
      .flatMap((f) =>
        fs
          .readFileSync(f, 'utf8')
          .split('\n')
          .flatMap((line, i) => (pattern.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
      );
    assert.deepEqual(offenders, []);
  });
});
