// A built-in binary task for when no GLUE data is around (and for fast tests), after spec §13 T2:
// a sentence of positive, negative and neutral words; label 1 iff it holds more positive words
// than negative ones. Needs no download, only a tokenizer that knows common English words.
import { Rng } from '../engine/random.js';
import type { Example } from './glue.js';
import { specialTokenEntry } from '../io/tokenizer.js';

const POSITIVE = ['good', 'great', 'fine', 'nice', 'happy', 'excellent', 'lovely', 'bright', 'warm', 'fun'];
const NEGATIVE = ['bad', 'awful', 'poor', 'sad', 'ugly', 'terrible', 'boring', 'dark', 'cold', 'dull'];
const NEUTRAL = [
  'the',
  'a',
  'movie',
  'day',
  'story',
  'house',
  'city',
  'music',
  'food',
  'people',
  'was',
  'is',
  'and',
  'very',
  'quite',
  'with',
  'some',
  'many',
  'old',
  'new',
  'long',
  'short',
  'red',
  'blue',
  'river',
  'road',
  'book',
  'game',
  'team',
  'school',
];

export const SYNTHETIC_SIZES = { train: 8000, dev: 1000 };

/** Deterministic examples: the same seed and split always give the same data. */
export function syntheticExamples(split: 'train' | 'dev', count = SYNTHETIC_SIZES[split], seed = 1234): Example[] {
  const rng = new Rng(seed + (split === 'dev' ? 7777 : 0));
  const out: Example[] = [];
  while (out.length < count) {
    const len = 6 + rng.int(14);
    const words: string[] = [];
    let pos = 0;
    let neg = 0;
    for (let i = 0; i < len; i++) {
      const r = rng.next();
      if (r < 0.2) {
        words.push(POSITIVE[rng.int(POSITIVE.length)]);
        pos++;
      } else if (r < 0.4) {
        words.push(NEGATIVE[rng.int(NEGATIVE.length)]);
        neg++;
      } else words.push(NEUTRAL[rng.int(NEUTRAL.length)]);
    }
    if (pos === neg) continue; // no ties: the label is always defined
    out.push({ textA: words.join(' '), label: pos > neg ? 1 : 0 });
  }
  return out;
}

/**
 * A WordPiece tokenizer.json covering exactly the synthetic task's words (BERT-style specials and
 * template), for machines that have no BERT tokenizer at hand.
 */
export function syntheticTokenizerJson(): Record<string, unknown> {
  // + the verbalizer words, so T5 / LLaMA heads can answer with them
  return wordPieceTokenizerJson([
    '[PAD]',
    '[UNK]',
    '[CLS]',
    '[SEP]',
    '[MASK]',
    ...POSITIVE,
    ...NEGATIVE,
    ...NEUTRAL,
    'negative',
    'positive',
    'no',
    'yes',
  ]);
}

/** A bert-base-uncased-style tokenizer.json over `pieces` (in id order; must hold the five specials). */
export function wordPieceTokenizerJson(pieces: readonly string[]): Record<string, unknown> {
  const vocab = Object.fromEntries(pieces.map((w, i) => [w, i]));
  const special = (content: string) => specialTokenEntry(vocab[content], content);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map(special),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}
