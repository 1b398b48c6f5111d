// A WordPiece vocabulary trimmed to the pieces a corpus (and the GLUE tasks) actually use, for
// pretraining small encoders and decoders: bert-base-uncased's 30,522-row embedding table is 70% of
// BERT-mini's weights, and the vocabulary-sized output layer most of each pretraining step.
//
// What is kept: the special tokens, then every character piece ("c" and "##c") of every character that
// occurs, then the most frequent remaining pieces up to `size`. Because every occurring character stays
// (as a word start and as a continuation), WordPiece's greedy longest match still splits every word the
// original split without [UNK]: a dropped piece becomes shorter pieces, never [UNK]. Kept pieces keep
// their original relative order, so the file reads like the original.
import fs from 'node:fs';
import path from 'node:path';
import { writeTextAtomic } from '../io/safetensors.js';
import type { TextTokenizer } from '../io/tokenizer.js';

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

/** Adds the word pieces of `text` to `counts`. */
export function countPieces(tok: TextTokenizer, text: string, counts: Map<string, number>): void {
  for (const piece of tok.tokenize(text)) counts.set(piece, (counts.get(piece) ?? 0) + 1);
}

/** The kept pieces in id order: specials first, then the original order of the rest. */
export function trimVocabulary(
  original: readonly string[],
  counts: ReadonlyMap<string, number>,
  size: number,
): string[] {
  const known = new Set(original);
  for (const s of SPECIALS) if (!known.has(s)) throw new Error(`trim-vocab: the tokenizer has no ${s} token`);
  const keep = new Set(SPECIALS);
  for (const piece of counts.keys()) {
    for (const ch of piece.replace(/^##/, '')) {
      for (const p of [ch, `##${ch}`]) if (known.has(p)) keep.add(p);
    }
  }
  if (keep.size > size)
    throw new Error(`trim-vocab: --size ${size} is below the ${keep.size} special and character pieces that must stay`);
  const byCount = [...counts.entries()]
    .filter(([p]) => known.has(p) && !keep.has(p))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  for (const [p] of byCount) {
    if (keep.size >= size) break;
    keep.add(p);
  }
  return [...SPECIALS, ...original.filter((p) => keep.has(p) && !SPECIALS.includes(p))];
}

/** Writes `outDir` with tokenizer.json, vocab.txt and tokenizer_config.json over the kept pieces. */
export function writeTrimmedTokenizer(
  fromDir: string,
  pieces: readonly string[],
  outDir: string,
  provenance: Record<string, unknown>,
): void {
  const json = JSON.parse(fs.readFileSync(path.join(fromDir, 'tokenizer.json'), 'utf8'));
  // Older files leave out model.type; a WordPiece model is the one with a subword prefix and no merges.
  const wordPiece =
    json.model?.type === 'WordPiece' ||
    (json.model?.type === undefined && json.model?.continuing_subword_prefix && !json.model?.merges);
  if (!wordPiece)
    throw new Error(
      `${fromDir}/tokenizer.json: trim-vocab handles WordPiece tokenizers, this one is ${json.model?.type}`,
    );
  const id = new Map(pieces.map((p, i) => [p, i]));
  json.model.vocab = Object.fromEntries(id);
  for (const t of json.added_tokens ?? []) {
    const n = id.get(t.content);
    if (n === undefined) throw new Error(`${fromDir}/tokenizer.json: added token ${t.content} is not kept`);
    t.id = n;
  }
  for (const s of Object.values(json.post_processor?.special_tokens ?? {}) as { tokens: string[]; ids: number[] }[]) {
    s.ids = s.tokens.map((t) => id.get(t) as number);
  }
  fs.mkdirSync(outDir, { recursive: true });
  writeTextAtomic(path.join(outDir, 'tokenizer.json'), JSON.stringify(json));
  writeTextAtomic(path.join(outDir, 'vocab.txt'), pieces.join('\n') + '\n');
  const configFile = path.join(fromDir, 'tokenizer_config.json');
  const config = fs.existsSync(configFile) ? JSON.parse(fs.readFileSync(configFile, 'utf8')) : {};
  writeTextAtomic(
    path.join(outDir, 'tokenizer_config.json'),
    JSON.stringify({ ...config, revmux_trimmed: provenance }, null, 2) + '\n',
  );
}
