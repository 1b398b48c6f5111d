// `revmux data download`: GLUE from its public sources, for machines with internet access.
import type { Command } from 'commander';
import { GLUE_TASKS, type GlueTask, findGlueDir, loadGlue, parseTask } from '../data/glue.js';
import { positiveInt } from './args.js';

export function registerData(program: Command): void {
  const data = program.command('data').description('datasets');
  data
    .command('download')
    .description(
      'download GLUE SST-2, MRPC, RTE, QNLI from their public sources into <dir>/<Task>/{train,dev}.tsv (needs ' +
        'internet access)',
    )
    .option('--dir <dir>', 'where to put them', 'data/glue')
    .option('--tasks <list>', 'comma-separated tasks', GLUE_TASKS.join(','))
    .action(async (o: { dir: string; tasks: string }) => {
      const { downloadGlue } = await import('../data/download.js');
      const tasks = o.tasks
        .split(',')
        .map((t) => parseTask(t.trim()))
        .filter((t): t is GlueTask => t !== 'synthetic');
      await downloadGlue(o.dir, tasks);
    });
  data
    .command('trim-vocab')
    .description(
      'a WordPiece tokenizer trimmed to the pieces a corpus and the GLUE training sets use (every occurring ' +
        'character kept, so no new [UNK]); for pretraining small backbones',
    )
    .requiredOption('--corpus <file>', 'text corpus (.txt or .txt.gz) whose pieces are counted')
    .requiredOption('--out <dir>', 'folder for tokenizer.json, vocab.txt, tokenizer_config.json')
    .option('--tokenizer <dir>', 'WordPiece tokenizer to trim', '../shared/data/tokenizers/bert-base-uncased')
    .option('--glue <dir>', 'GLUE folder whose training sets are counted too (default: found as for finetune)')
    .option('--size <n>', 'vocabulary size', positiveInt, 8192)
    .action(async (o: { corpus: string; out: string; tokenizer: string; glue?: string; size: number }) => {
      const { readLines } = await import('../data/corpus.js');
      const { countPieces, trimVocabulary, writeTrimmedTokenizer } = await import('../data/vocab-trim.js');
      const { TextTokenizer } = await import('../io/tokenizer.js');
      const tok = TextTokenizer.load(o.tokenizer);
      const counts = new Map<string, number>();
      for await (const { line } of readLines(o.corpus)) if (line.trim()) countPieces(tok, line, counts);
      const glue = findGlueDir(o.glue);
      if (!glue) throw new Error('trim-vocab: no GLUE folder found (pass --glue DIR)');
      for (const task of GLUE_TASKS) {
        for (const ex of loadGlue(glue, task, 'train'))
          for (const t of [ex.textA, ex.textB]) if (t) countPieces(tok, t, counts);
      }
      const original = Array.from({ length: tok.vocabSize }, (_, i) => tok.idToToken(i) ?? '');
      const pieces = trimVocabulary(original, counts, o.size);
      const kept = new Set(pieces);
      let total = 0;
      let covered = 0;
      for (const [p, c] of counts) {
        total += c;
        if (kept.has(p)) covered += c;
      }
      const stats = {
        from: o.tokenizer,
        corpus: o.corpus,
        glue_train_sets: GLUE_TASKS,
        size: pieces.length,
        distinct_pieces_used: counts.size,
        pieces_counted: total,
        share_of_pieces_kept_as_is: covered / total,
      };
      writeTrimmedTokenizer(o.tokenizer, pieces, o.out, stats);
      console.log(JSON.stringify(stats, null, 2));
    });
}
