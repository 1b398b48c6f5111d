// A real pretrained LLaMA (llama2.c stories260K) reproduces its greedy decoding under teacher forcing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { float32 } from '../../src/engine/runtime.js';
import { runForward } from '../../src/models/forward.js';
import { loadModel } from '../../src/models/load.js';
import { sharedData } from '../helpers/shared-data.js';

describe('stories260K (real pretrained LLaMA)', () => {
  it('argmax at every position from the last prompt token on equals the next greedy id', async (t) => {
    const dir = sharedData(t, 'models/stories260K');
    if (!dir) return;
    const golden = JSON.parse(fs.readFileSync(path.join(dir, 'greedy-once-upon-a-time.json'), 'utf8')) as {
      greedy_ids: number[];
      prompt_ids_with_bos: number[];
    };
    const ids = golden.greedy_ids;
    const S = ids.length;
    const model = loadModel(dir);
    const out = await runForward(
      model,
      {
        input_ids: { data: BigInt64Array.from(ids, BigInt), shape: [1, S] },
        attention_mask: { data: new BigInt64Array(S).fill(1n), shape: [1, S] },
      },
      { hiddenStates: false },
    );
    const logits = float32(out.logits);
    const V = out.logits.shape[2];
    let agree = 0;
    const first = golden.prompt_ids_with_bos.length - 1;
    for (let p = first; p < S - 1; p++) {
      let best = 0;
      for (let v = 1; v < V; v++) if (logits[p * V + v] > logits[p * V + best]) best = v;
      if (best === ids[p + 1]) agree++;
    }
    t.diagnostic(`${agree} of ${S - 1 - first} positions agree`);
    assert.equal(agree, S - 1 - first);
  });
});
