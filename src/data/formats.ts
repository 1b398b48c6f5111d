// Task-input helpers that several backbones share. What each backbone does with a task example
// (prompt, pair layout, answer words) is decided in its own module (src/models/*.ts).
import type { TextTokenizer } from '../io/tokenizer.js';
import { TASKS, type Task } from './glue.js';

/**
 * Token ids of the two label words (the first piece of each) for heads that answer through an LM
 * head. `leadingSpace`: tokenize " word", as a word after a space (BPE and SentencePiece LLaMA vocabularies).
 */
export function labelWordIds(tok: TextTokenizer, task: Task, o: { leadingSpace: boolean }): [number, number] {
  const ids = TASKS[task].labelWords.map((w) => {
    const pieces = tok.tokenize(o.leadingSpace ? ` ${w}` : w);
    const id = pieces.length ? tok.tokenToId(pieces[0]) : undefined;
    if (id === undefined) throw new Error(`${tok.source}: the label word '${w}' has no token id`);
    return id;
  }) as [number, number];
  if (ids[0] === ids[1])
    throw new Error(
      `${tok.source}: both label words start with the same token (${ids[0]}); pass different label words`,
    );
  return ids;
}
