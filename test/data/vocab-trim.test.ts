// A trimmed WordPiece vocabulary: specials first, every occurring character kept (so words still split
// without [UNK]), the most frequent pieces up to the size; the written tokenizer loads and tokenizes
// every text into pieces of the new vocabulary only.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { wordPieceTokenizerJson } from '../../src/data/synthetic.js';
import { countPieces, trimVocabulary, writeTrimmedTokenizer } from '../../src/data/vocab-trim.js';
import { TextTokenizer } from '../../src/io/tokenizer.js';

/** A small WordPiece tokenizer.json in bert-base-uncased's layout (specials not at the front). */
function wordPieceDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-trim-'));
  const pieces = [
    '[unused0]',
    '[PAD]',
    '[UNK]',
    '[CLS]',
    '[SEP]',
    '[MASK]',
    'a',
    'b',
    'c',
    'd',
    'e',
    'r',
    '##a',
    '##b',
    '##c',
    '##d',
    '##e',
    '##r',
    'bread',
    'bear',
    'cab',
    '##ed',
    'dad',
    'ace',
  ];
  const json = wordPieceTokenizerJson(pieces);
  delete (json.model as { type?: string }).type; // as bert-base-uncased's file, which leaves it out
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
  return dir;
}

describe('trim-vocab', () => {
  it('keeps specials, every occurring character, then the most frequent pieces', () => {
    const original = [
      '[unused0]',
      '[PAD]',
      '[UNK]',
      '[CLS]',
      '[SEP]',
      '[MASK]',
      'a',
      'b',
      'z',
      '##a',
      '##b',
      '##z',
      'ab',
      'ba',
      'zz',
    ];
    const counts = new Map([
      ['ab', 10],
      ['ba', 3],
      ['a', 1],
      ['##b', 1],
    ]);
    const kept = trimVocabulary(original, counts, 12);
    assert.deepEqual(kept.slice(0, 5), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
    for (const p of ['a', 'b', '##a', '##b']) assert.ok(kept.includes(p), `character piece ${p}`);
    assert.ok(!kept.includes('z') && !kept.includes('zz'), 'z never occurs');
    assert.ok(kept.includes('ab') && kept.includes('ba'));
    assert.deepEqual(
      trimVocabulary(original, counts, 10),
      [...kept.filter((p) => p !== 'ba')],
      'the least frequent piece goes first',
    );
    assert.throws(() => trimVocabulary(original, counts, 8), /--size 8 is below the 9 special and character pieces/);
  });

  it('writes a tokenizer that splits every text without new [UNK] and renumbers the specials', () => {
    const from = wordPieceDir();
    const tok = TextTokenizer.load(from);
    const texts = ['bread bear', 'a cab', 'bread dad', 'bread'];
    const counts = new Map<string, number>();
    for (const t of texts) countPieces(tok, t, counts);
    const pieces = trimVocabulary(
      Array.from({ length: tok.vocabSize }, (_, i) => tok.idToToken(i) ?? ''),
      counts,
      19,
    );
    const out = path.join(from, 'trimmed');
    writeTrimmedTokenizer(from, pieces, out, { test: true });
    const trimmed = TextTokenizer.load(out);
    assert.equal(trimmed.vocabSize, pieces.length);
    assert.equal(trimmed.padId, 0);
    assert.deepEqual(
      ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((t) => trimmed.tokenToId(t)),
      [0, 1, 2, 3, 4],
    );
    const enc = trimmed.encode('cab bear', 'dad');
    assert.equal(enc.ids[0], 2, '[CLS] from the renumbered template');
    assert.equal(enc.ids[enc.ids.length - 1], 3);
    for (const text of [...texts, 'ace bed', 'dead read']) {
      const a = tok.tokenize(text);
      const b = trimmed.tokenize(text);
      assert.equal(b.filter((p) => p === '[UNK]').length, a.filter((p) => p === '[UNK]').length, text);
      assert.equal(b.join('').replace(/#/g, ''), a.join('').replace(/#/g, ''), `${text}: the same characters`);
    }
    assert.ok(trimmed.tokenize('bread').length === 1, 'a kept word stays one piece');
    assert.ok(trimmed.tokenize('ace').length > 1, 'a dropped word splits into kept pieces');
    assert.equal(fs.readFileSync(path.join(out, 'vocab.txt'), 'utf8').trim().split('\n').length, pieces.length);
  });
});
