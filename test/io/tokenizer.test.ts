import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TextTokenizer, truncatePair } from '../../src/io/tokenizer.js';
import { sharedData } from '../helpers/shared-data.js';

describe('truncatePair (the Rust tokenizers rule)', () => {
  // Same table as tokenizers/src/utils/truncation.rs, max_length 7.
  const seq = (n: number) => Array.from({ length: n }, (_, i) => i);
  const cases: [number, number, number, number][] = [
    [0, 8, 0, 7],
    [2, 8, 2, 5],
    [4, 4, 3, 4],
    [4, 8, 3, 4],
    [8, 2, 5, 2],
    [8, 4, 4, 3],
    [8, 8, 3, 4],
    [2, 4, 2, 4],
  ];
  for (const [l1, l2, e1, e2] of cases) {
    it(`${l1} + ${l2} -> ${e1} + ${e2}`, () => {
      const [a, b] = truncatePair(seq(l1), seq(l2), 7, 'longest_first');
      assert.deepEqual([a.length, b!.length], [e1, e2]);
    });
  }
  it('only_first / only_second, and a clear error when impossible', () => {
    assert.deepEqual(
      truncatePair(seq(5), seq(3), 6, 'only_first').map((x) => x!.length),
      [3, 3],
    );
    assert.deepEqual(
      truncatePair(seq(5), seq(3), 6, 'only_second').map((x) => x!.length),
      [5, 1],
    );
    assert.throws(() => truncatePair(seq(2), seq(9), 4, 'only_first'), /first text has 2 tokens, 7 must go/);
  });
});

describe('bert-base-uncased tokenizer', () => {
  it('encodes single sentences and pairs with the well-known ids', (t) => {
    const dir = sharedData(t, 'tokenizers/bert-base-uncased');
    if (!dir) return;
    const tok = TextTokenizer.load(dir);
    assert.deepEqual(
      tok.encode('hide new secretions from the parental units').ids,
      [101, 5342, 2047, 3595, 8496, 2013, 1996, 18643, 3197, 102],
    );
    const hello = tok.encode('Hello, World!');
    assert.deepEqual(hello.ids, [101, 7592, 1010, 2088, 999, 102]);
    const pair = tok.encode('Hello, World!', 'hide new secretions');
    assert.deepEqual(pair.ids, [101, 7592, 1010, 2088, 999, 102, 5342, 2047, 3595, 8496, 102]);
    assert.deepEqual(pair.typeIds, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    assert.equal(tok.padId, 0);
    assert.equal(tok.modelMaxLength, 512);
    assert.equal(tok.decode(pair.ids, true), 'hello, world! hide new secretions');
    assert.equal(tok.tokenToId('[MASK]'), 103);
  });

  it('truncates pairs longest-first around the special tokens, and pads batches', (t) => {
    const dir = sharedData(t, 'tokenizers/bert-base-uncased');
    if (!dir) return;
    const tok = TextTokenizer.load(dir);
    // 'hide new secret ##ions from' (5 pieces) + 'the parental units' (3), maxLength 8 with 3 specials:
    // budget 5 = longest_first(5, 3) -> (3, 2); both [SEP] survive.
    const e = tok.encode('hide new secretions from', 'the parental units', { maxLength: 8 });
    assert.deepEqual(e.ids, [101, 5342, 2047, 3595, 102, 1996, 18643, 102]);
    assert.deepEqual(e.typeIds, [0, 0, 0, 0, 0, 1, 1, 1]);
    assert.throws(
      () => tok.encode('hide new secretions from', null, { maxLength: 4, truncation: false }),
      /7 tokens exceeds maxLength 4/,
    );

    const batch = tok.encodeBatch(['Hello, World!', ['hide new', 'secretions']], { maxLength: 16 });
    // [CLS] hello , world ! [SEP] and [CLS] hide new [SEP] secret ##ions [SEP]
    assert.deepEqual(batch.shape, [2, 7]);
    assert.deepEqual(batch.lengths, [6, 7]);
    assert.deepEqual(Array.from(batch.tokenTypeIds.slice(7), Number), [0, 0, 0, 0, 1, 1, 1]);
    const b2 = tok.encodeBatch(['Hello', 'Hello, World!'], { padding: 'max_length', maxLength: 8 });
    assert.deepEqual(b2.shape, [2, 8]);
    assert.deepEqual(Array.from(b2.inputIds.slice(0, 8), Number), [101, 7592, 102, 0, 0, 0, 0, 0]);
    assert.deepEqual(Array.from(b2.attentionMask.slice(0, 8), Number), [1, 1, 1, 0, 0, 0, 0, 0]);
    assert.deepEqual(Array.from(b2.tokenTypeIds, Number), new Array(16).fill(0));
  });

  it("adds T5's sentinels after the last id, keeps them whole in text, and saves them", async (t) => {
    const dir = sharedData(t, 'tokenizers/bert-base-uncased');
    if (!dir) return;
    const plain = TextTokenizer.load(dir);
    const tok = plain.withSpecialTokens(['<extra_id_0>', '<extra_id_1>', '[SEP]']); // [SEP]: already there
    assert.equal(tok.vocabSize, plain.vocabSize + 2);
    assert.equal(tok.tokenToId('<extra_id_1>'), 30523);
    assert.equal(tok.tokenToId('[SEP]'), 102);
    assert.deepEqual(tok.tokenize('a film ? <extra_id_0> good'), ['a', 'film', '?', '<extra_id_0>', 'good']);
    assert.ok(plain.tokenize('<extra_id_0>').length > 1, 'without it, the sentinel is word pieces');
    assert.equal(tok.withSpecialTokens(['<extra_id_0>']), tok);
    const fs = await import('node:fs');
    const out = fs.mkdtempSync((await import('node:os')).tmpdir() + '/revmux-tok-');
    tok.save(out);
    const again = TextTokenizer.load(out);
    assert.equal(again.tokenToId('<extra_id_1>'), 30523);
    assert.deepEqual(again.encode('a film').ids, tok.encode('a film').ids);
  });

  it('names the file when tokenizer.json is missing or broken', () => {
    assert.throws(() => TextTokenizer.load('/nonexistent/dir'), /\/nonexistent\/dir: no tokenizer.json/);
  });
});

describe('byte-level BPE tokenizer (RoBERTa / Qwen style)', () => {
  it('encodes words with their leading-space marker, RoBERTa pairs and pad id, from a tokenizer.json', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { TextTokenizer } = await import('../../src/io/tokenizer.js');
    const vocab: Record<string, number> = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
    for (const c of 'abcdefghijklmnopqrstuvwxyzĠ.,!?') vocab[c] = Object.keys(vocab).length;
    const merges = ['Ġ g', 'Ġg o', 'Ġgo o', 'Ġgoo d', 'b a', 'ba d', 'Ġ ba', 'Ġ bad'];
    for (const m of merges) vocab[m.replace(' ', '')] ??= Object.keys(vocab).length;
    const json = {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: ['<s>', '<pad>', '</s>', '<unk>'].map((content, id) => ({
        id,
        content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      })),
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: {
        type: 'RobertaProcessing',
        sep: ['</s>', 2],
        cls: ['<s>', 0],
        trim_offsets: true,
        add_prefix_space: false,
      },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: '<unk>',
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        vocab,
        merges,
      },
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revmux-bpe-'));
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
    fs.writeFileSync(
      path.join(dir, 'tokenizer_config.json'),
      JSON.stringify({ pad_token: '<pad>', model_max_length: 64 }),
    );
    const tok = TextTokenizer.load(dir);
    assert.deepEqual(tok.tokenize('a good bad'), ['a', 'Ġgood', 'Ġbad']);
    const pair = tok.encode('a good', 'bad');
    assert.deepEqual(pair.ids, [0, vocab.a, vocab['Ġgood'], 2, 2, vocab.bad, 2]); // <s> A </s></s> B </s>
    assert.equal(tok.padId, 1);
  });
});
