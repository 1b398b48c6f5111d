// Prefill [0, l) in one graph, feed its output to another graph running [l, L): the outputs equal
// one graph running [0, L). This is the split RevMUX relies on.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Graph } from '../../src/engine/graph.js';
import { compile, float32 } from '../../src/engine/runtime.js';
import type { ModelInputs } from '../../src/models/backbone.js';
import { runForward } from '../../src/models/forward.js';
import { loadModel } from '../../src/models/load.js';
import { goldenInputs } from '../helpers/golden.js';
import { sharedData } from '../helpers/shared-data.js';

for (const name of ['bert-tiny', 't5-tiny', 'llama-tiny']) {
  describe(`layer ranges: ${name}`, () => {
    it('[0, l) then [l, L) equals [0, L) for every l', async (t) => {
      const dir = sharedData(t, path.join('reference', name));
      if (!dir) return;
      const model = loadModel(dir);
      const { feeds, golden } = goldenInputs(dir);
      golden.close();
      const full = await runForward(model, feeds);
      const L = model.numLayers;
      for (let l = 0; l <= L; l++) {
        // stage 1: embeddings + layers [0, l)
        const g1 = new Graph('prefill');
        const in1: ModelInputs = {
          inputIds: g1.input('input_ids', 'int64', ['b', 's']),
          attentionMask: g1.input('attention_mask', 'int64', ['b', 's']),
        };
        if (feeds.token_type_ids) in1.tokenTypeIds = g1.input('token_type_ids', 'int64', ['b', 's']);
        const m1 = model.bind(g1);
        g1.output('h', m1.layers(m1.embed(in1), m1.context(in1.attentionMask), 0, l));
        const { input_ids, attention_mask, token_type_ids } = feeds;
        const h = (
          await (
            await compile(g1)
          ).run(token_type_ids ? { input_ids, attention_mask, token_type_ids } : { input_ids, attention_mask })
        ).h;
        // stage 2: layers [l, L) + heads, from the hidden states
        const g2 = new Graph('rest');
        const hIn = g2.input('h', 'float32', ['b', 's', model.hiddenSize]);
        const in2: ModelInputs = {
          inputIds: g2.input('input_ids', 'int64', ['b', 's']),
          attentionMask: g2.input('attention_mask', 'int64', ['b', 's']),
        };
        if (feeds.decoder_input_ids) in2.decoderInputIds = g2.input('decoder_input_ids', 'int64', ['b', 't']);
        const m2 = model.bind(g2);
        const ctx = m2.context(in2.attentionMask);
        for (const [k, v] of Object.entries(m2.outputs(m2.layers(hIn, ctx, l, L), ctx, in2))) g2.output(k, v);
        const s2 = await compile(g2);
        const rest = await s2.run({
          h,
          input_ids,
          attention_mask,
          ...(feeds.decoder_input_ids ? { decoder_input_ids: feeds.decoder_input_ids } : {}),
        });
        for (const k of Object.keys(rest)) {
          const a = float32(rest[k]);
          const b = float32(full[k]);
          let worst = 0;
          for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
          assert.ok(worst <= 1e-5, `l = ${l}, ${k}: max |diff| ${worst}`);
        }
      }
    });
  });
}
