// BERT's masked-LM corruption: 15% of the (non-special) tokens are chosen; of those 80% become
// [MASK], 10% a random token, 10% stay. Only chosen positions are scored.
import type { HostTensor } from '../engine/runtime.js';
import type { Rng } from '../engine/random.js';

export interface MlmOptions {
  maskId: number;
  vocabSize: number;
  /** Ids never chosen and never drawn as random replacements ([CLS], [SEP], [PAD], ...). */
  specialIds: ReadonlySet<number>;
  probability?: number; // 0.15
  /** First id allowed as a random replacement (skips [unused*] and specials in BERT vocabularies). */
  firstRandomId?: number;
}

export interface MlmBatch {
  input_ids: HostTensor;
  attention_mask: HostTensor;
  /** Flat indices b * S + t of the scored positions. */
  mlm_positions: HostTensor;
  mlm_labels: HostTensor;
}

export function maskSequences(seqs: readonly number[][], rng: Rng, o: MlmOptions): MlmBatch {
  const B = seqs.length;
  const S = Math.max(...seqs.map((s) => s.length));
  const ids = new BigInt64Array(B * S);
  const mask = new BigInt64Array(B * S);
  const positions: number[] = [];
  const labels: number[] = [];
  const p = o.probability ?? 0.15;
  const lo = o.firstRandomId ?? 0;
  seqs.forEach((seq, b) => {
    seq.forEach((t, j) => {
      const at = b * S + j;
      mask[at] = 1n;
      let out = t;
      if (!o.specialIds.has(t) && rng.next() < p) {
        positions.push(at);
        labels.push(t);
        const r = rng.next();
        if (r < 0.8) out = o.maskId;
        else if (r < 0.9) {
          do out = lo + rng.int(o.vocabSize - lo);
          while (o.specialIds.has(out));
        }
      }
      ids[at] = BigInt(out);
    });
  });
  if (positions.length === 0) {
    // a batch must score something: take the first content token of the first sequence
    const j = seqs[0].findIndex((t) => !o.specialIds.has(t));
    positions.push(Math.max(0, j));
    labels.push(seqs[0][Math.max(0, j)]);
  }
  return {
    input_ids: { data: ids, shape: [B, S] },
    attention_mask: { data: mask, shape: [B, S] },
    mlm_positions: { data: BigInt64Array.from(positions, BigInt), shape: [positions.length] },
    mlm_labels: { data: BigInt64Array.from(labels, BigInt), shape: [labels.length] },
  };
}
