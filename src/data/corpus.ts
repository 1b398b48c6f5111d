// Streams a .txt or .txt.gz corpus line by line (one paragraph per line, documents separated by
// blank lines) and packs the tokens into fixed-length sequences [CLS] ... [SEP], with a [SEP]
// between documents, so no compute is spent on padding.
import fs from 'node:fs';
import readline from 'node:readline';
import zlib from 'node:zlib';
import type { TextTokenizer } from '../io/tokenizer.js';

/** Lines of a (gzipped) text file from line `skip` on. */
export async function* readLines(file: string, skip = 0): AsyncGenerator<{ line: string; lineNo: number }> {
  if (!fs.existsSync(file)) throw new Error(`${file}: corpus not found`);
  const raw = fs.createReadStream(file);
  const stream = file.endsWith('.gz') ? raw.pipe(zlib.createGunzip()) : raw;
  const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of rl) {
      if (n >= skip) yield { line, lineNo: n };
      n++;
    }
  } finally {
    rl.close();
    raw.destroy();
  }
}

export interface PackerState {
  /** Next corpus line to read. */
  lineNo: number;
  /** Tokens read but not yet emitted. */
  pending: number[];
}

export interface PackedSequence {
  ids: number[];
}

/**
 * Packs tokenised lines into sequences of exactly `seqLen` tokens ([CLS] + content + [SEP]).
 * `state` is updated as sequences are emitted, so saving it lets a run resume at the same token.
 */
export async function* packSequences(
  file: string,
  tok: TextTokenizer,
  seqLen: number,
  state: PackerState,
): AsyncGenerator<PackedSequence> {
  const cls = tok.tokenToId('[CLS]');
  const sep = tok.tokenToId('[SEP]');
  if (cls === undefined || sep === undefined) throw new Error(`${tok.source}: packing needs [CLS] and [SEP] tokens`);
  const unk = tok.tokenToId('[UNK]') ?? 100;
  const content = seqLen - 2;
  for await (const { line, lineNo } of readLines(file, state.lineNo)) {
    state.lineNo = lineNo + 1;
    const text = line.trim();
    if (!text) {
      // document boundary
      if (state.pending.length && state.pending[state.pending.length - 1] !== sep) state.pending.push(sep);
      continue;
    }
    for (const t of tok.tokenize(text)) state.pending.push(tok.tokenToId(t) ?? unk);
    while (state.pending.length >= content) {
      const body = state.pending.splice(0, content);
      yield { ids: [cls, ...body, sep] };
    }
  }
}
