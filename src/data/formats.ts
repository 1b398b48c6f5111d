// How a task example is presented to each backbone (spec §2), and which token ids are its answer:
//   BERT  — the sentence (pair) as-is; the fine-tuned classifier answers (no label words).
//   T5    — "text: {a}" or "text: {a} ? <extra_id_0> {b}" (spec §2.2 without the 50 soft-prompt
//           filler tokens, which only exist to carry a learned prompt); decoder input
//           "<pad> <extra_id_0> <extra_id_0>", answer at decoder step 1; label words' first tokens.
//   LLaMA — a plain instruction prompt ending where the answer word would start (no chat template:
//           not every LLaMA tokenizer has one); answer at the last real token; label words' first tokens.
import type { TextTokenizer } from '../io/tokenizer.js';
import type { Backbone } from '../models/backbone.js';
import { type Example, TASKS, type Task } from './glue.js';

export function formatExample(model: Backbone, task: Task, e: Example): Example {
  if (model.modelType === 'bert') return e;
  if (model.modelType === 't5') return { label: e.label, textA: e.textB === undefined ? `text: ${e.textA}` : `text: ${e.textA} ? <extra_id_0> ${e.textB}` };
  const words = TASKS[task].labelWords.join(' or ');
  const body = e.textB === undefined ? `Sentence: ${e.textA}` : `Sentence 1: ${e.textA}\nSentence 2: ${e.textB}`;
  return { label: e.label, textA: `${body}\nAnswer with ${words}. Answer:` };
}

/** Token ids of the two label words (first piece of each), for T5 and LLaMA heads; null for BERT. */
export function labelTokenIds(model: Backbone, tok: TextTokenizer, task: Task): [number, number] | null {
  if (model.modelType === 'bert') return null;
  const ids = TASKS[task].labelWords.map((w) => {
    const pieces = tok.tokenize(model.modelType === 'llama' ? ` ${w}` : w);
    const id = pieces.length ? tok.tokenToId(pieces[0]) : undefined;
    if (id === undefined) throw new Error(`${tok.source}: the label word '${w}' has no token id`);
    return id;
  }) as [number, number];
  if (ids[0] === ids[1]) throw new Error(`${tok.source}: both label words start with the same token (${ids[0]}); pass different label words`);
  return ids;
}

/** T5 decoder inputs: start token, then <extra_id_0> twice (or the mask / unknown token if absent). */
export function t5DecoderIds(model: Backbone, tok: TextTokenizer): number[] | undefined {
  if (model.modelType !== 't5') return undefined;
  const start = model.config.model_type === 't5' ? model.config.decoder_start_token_id : 0;
  const sentinel = tok.tokenToId('<extra_id_0>') ?? tok.tokenToId('[MASK]') ?? tok.tokenToId('<unk>') ?? 2;
  return [start, sentinel, sentinel];
}
