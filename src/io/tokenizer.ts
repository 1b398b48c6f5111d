// Hugging Face tokenizer.json (+ tokenizer_config.json) through @huggingface/tokenizers, with what
// that library leaves out: truncation as the Rust `tokenizers` does it (before special tokens are
// added), padding, and batches as int64 tensors ready to feed a graph.
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { padRows } from '../data/padding.js';
import { writeTextAtomic } from './safetensors.js';

export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second';

export interface EncodeOptions {
  /** Maximum length including special tokens; default tokenizer_config's model_max_length (or 512). */
  maxLength?: number;
  /** Truncate to maxLength (default true); false makes over-long input an error. */
  truncation?: boolean | TruncationStrategy;
  addSpecialTokens?: boolean;
}

export interface BatchOptions extends EncodeOptions {
  /** 'longest' pads to the longest in the batch, 'max_length' to maxLength, a number to that length. */
  padding?: 'longest' | 'max_length' | number;
}

export interface Encoded {
  ids: number[];
  typeIds: number[];
}

export interface Batch {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  /** [batch, seq] */
  shape: [number, number];
  /** Real (unpadded) length of each row. */
  lengths: number[];
}

export type TextInput = string | { text: string; textPair?: string } | [string, string];

interface PostProcessorFn {
  (tokens: string[], pair: string[] | null, addSpecial: boolean): { tokens: string[]; token_type_ids?: number[] };
}

/** A tokenizer.json `added_tokens` entry of a special token: matched whole in text, never normalised. */
export function specialTokenEntry(id: number, content: string) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

export class TextTokenizer {
  readonly modelMaxLength: number;
  readonly padId: number;
  private readonly tok: Tokenizer;
  private readonly specialCount: { single: number; pair: number };

  private constructor(
    readonly source: string,
    private readonly tokenizerJson: Record<string, unknown>,
    private readonly config: Record<string, unknown>,
  ) {
    this.tok = new Tokenizer(tokenizerJson, config);
    const max = Number(config.model_max_length);
    // HF writes a huge sentinel (1e30) when there is no limit; treat that as 'no limit known'.
    this.modelMaxLength = Number.isFinite(max) && max > 0 && max < 1e9 ? max : 512;
    this.padId = this.resolvePadId(tokenizerJson, config);
    const pp = this.postProcessor();
    this.specialCount = {
      single: pp ? pp(['a'], null, true).tokens.length - 1 : 0,
      pair: pp ? pp(['a'], ['b'], true).tokens.length - 2 : 0,
    };
  }

  /** Loads `tokenizer.json` (and `tokenizer_config.json` if present) from a folder or a file path. */
  static load(location: string): TextTokenizer {
    const file = fs.statSync(location, { throwIfNoEntry: false })?.isDirectory()
      ? path.join(location, 'tokenizer.json')
      : location;
    if (!fs.existsSync(file))
      throw new Error(
        `${file}: no tokenizer.json (a Hugging Face fast-tokenizer file is needed; vocab.txt / sentencepiece .model ` +
          `files alone are not read)`,
      );
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
    }
    if (!json.model) throw new Error(`${file}: missing the "model" field; is this a tokenizer.json?`);
    const cfgFile = path.join(path.dirname(file), 'tokenizer_config.json');
    let config: Record<string, unknown> = {};
    if (fs.existsSync(cfgFile)) {
      try {
        config = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
      } catch (e) {
        throw new Error(`${cfgFile}: not valid JSON (${(e as Error).message})`);
      }
    }
    return new TextTokenizer(file, json, config);
  }

  private postProcessor(): PostProcessorFn | null {
    const pp = (this.tok as unknown as { post_processor: PostProcessorFn | null }).post_processor;
    return pp ? (t, p, s) => pp(t, p, s) : null;
  }

  private resolvePadId(json: Record<string, unknown>, config: Record<string, unknown>): number {
    const padding = json.padding as { pad_id?: number } | null;
    if (padding && typeof padding.pad_id === 'number') return padding.pad_id;
    const padToken =
      typeof config.pad_token === 'string'
        ? config.pad_token
        : (config.pad_token as { content?: string } | undefined)?.content;
    for (const t of [padToken, '[PAD]', '<pad>']) {
      if (!t) continue;
      const id = this.tok.token_to_id(t);
      if (id !== undefined) return id;
    }
    return 0;
  }

  /**
   * This tokenizer with `tokens` added as special tokens (never split, never normalised) at the ids after its
   * last one; tokens it already has are left where they are.
   */
  withSpecialTokens(tokens: readonly string[]): TextTokenizer {
    const missing = tokens.filter((t) => this.tokenToId(t) === undefined);
    if (!missing.length) return this;
    const first = this.vocabSize;
    const added = missing.map((content, i) => specialTokenEntry(first + i, content));
    const json = {
      ...this.tokenizerJson,
      added_tokens: [...((this.tokenizerJson.added_tokens as []) ?? []), ...added],
    };
    return new TextTokenizer(`${this.source} + ${missing.length} added tokens`, json, this.config);
  }

  /** Writes tokenizer.json and tokenizer_config.json (when it has one) into `dir`. */
  save(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
    writeTextAtomic(path.join(dir, 'tokenizer.json'), JSON.stringify(this.tokenizerJson) + '\n');
    if (Object.keys(this.config).length)
      writeTextAtomic(path.join(dir, 'tokenizer_config.json'), JSON.stringify(this.config, null, 2) + '\n');
  }

  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }

  get vocabSize(): number {
    return this.tok.get_vocab(true).size;
  }

  decode(ids: ArrayLike<number | bigint>, skipSpecialTokens = false): string {
    return this.tok.decode(Array.from(ids, Number), { skip_special_tokens: skipSpecialTokens });
  }

  /** Word pieces of a text, without special tokens. */
  tokenize(text: string): string[] {
    return this.tok.tokenize(text, { add_special_tokens: false });
  }

  encode(text: string, textPair?: string | null, o: EncodeOptions = {}): Encoded {
    const addSpecial = o.addSpecialTokens ?? true;
    const maxLength = o.maxLength ?? this.modelMaxLength;
    let a = this.tokenize(text);
    let b = textPair === undefined || textPair === null ? null : this.tokenize(textPair);
    const specials = addSpecial ? (b ? this.specialCount.pair : this.specialCount.single) : 0;
    const budget = maxLength - specials;
    if (a.length + (b?.length ?? 0) > budget) {
      if (o.truncation === false)
        throw new Error(
          `input of ${a.length + (b?.length ?? 0) + specials} tokens exceeds maxLength ${maxLength} and ` +
            `truncation is off`,
        );
      [a, b] = truncatePair(
        a,
        b,
        Math.max(0, budget),
        o.truncation === true || o.truncation === undefined ? 'longest_first' : o.truncation,
      );
    }
    const pp = this.postProcessor();
    const out = pp ? pp(a, b, addSpecial) : { tokens: [...a, ...(b ?? [])] };
    const unk = (this.tok as unknown as { model: { unk_token_id?: number } }).model.unk_token_id ?? 0;
    const ids = out.tokens.map((t) => this.tok.token_to_id(t) ?? unk);
    const typeIds = out.token_type_ids ?? new Array(ids.length).fill(0);
    return { ids, typeIds };
  }

  /** Encodes, truncates and right-pads a batch into [batch, seq] int64 tensors. */
  encodeBatch(inputs: readonly TextInput[], o: BatchOptions = {}): Batch {
    const enc = inputs.map((x) => {
      if (typeof x === 'string') return this.encode(x, null, o);
      if (Array.isArray(x)) return this.encode(x[0], x[1], o);
      return this.encode(x.text, x.textPair ?? null, o);
    });
    const longest = Math.max(0, ...enc.map((e) => e.ids.length));
    const padding = o.padding ?? 'longest';
    const seq =
      padding === 'longest' ? longest : padding === 'max_length' ? (o.maxLength ?? this.modelMaxLength) : padding;
    if (seq < longest)
      throw new Error(`padding length ${seq} is shorter than the longest encoded input (${longest} tokens)`);
    const { inputIds, attentionMask, tokenTypeIds } = padRows(enc, this.padId, { minLength: seq });
    return {
      inputIds,
      attentionMask,
      tokenTypeIds,
      shape: [inputs.length, seq],
      lengths: enc.map((e) => e.ids.length),
    };
  }
}

/** Truncates a (pair of) token lists to `max` tokens in total, as Hugging Face tokenizers does. */
export function truncatePair<T>(a: T[], b: T[] | null, max: number, strategy: TruncationStrategy): [T[], T[] | null] {
  const total = a.length + (b?.length ?? 0);
  if (total <= max) return [a, b];
  const excess = total - max;
  if (strategy === 'only_first' || strategy === 'only_second') {
    const target = strategy === 'only_first' ? a : b;
    if (!target) throw new Error('truncation only_second needs a text pair');
    if (target.length <= excess)
      throw new Error(
        `cannot truncate: the ${strategy === 'only_first' ? 'first' : 'second'} text has ${target.length} tokens, ` +
          `${excess} must go`,
      );
    const kept = target.slice(0, target.length - excess);
    return strategy === 'only_first' ? [kept, b] : [a, kept];
  }
  if (!b) return [a.slice(0, max), null];
  // longest_first: keep the shorter one whole when possible, else split max between both.
  let n1 = Math.min(a.length, b.length);
  let n2 = Math.max(a.length, b.length);
  n2 = n1 > max ? n1 : Math.max(n1, max - n1);
  if (n1 + n2 > max) {
    n1 = Math.floor(max / 2);
    n2 = n1 + (max % 2);
  }
  const [na, nb] = a.length > b.length ? [n2, n1] : [n1, n2];
  return [a.slice(0, na), b.slice(0, nb)];
}
