// GLUE SST-2, MRPC, RTE and QNLI from their original tab-separated files.
//
// Parsing follows the files, not CSV: split on tabs, no quote handling (fields contain raw double
// quotes), a UTF-8 BOM tolerated (MRPC), columns found by header name. Labels become class
// indices in verbalizer order: index 0 = "negative"/"no", index 1 = "positive"/"yes" (spec §2).
import fs from 'node:fs';
import path from 'node:path';
import { syntheticExamples } from './synthetic.js';

export type GlueTask = 'sst2' | 'mrpc' | 'rte' | 'qnli';
export const GLUE_TASKS: readonly GlueTask[] = ['sst2', 'mrpc', 'rte', 'qnli'];
/** A GLUE task, or the built-in synthetic task (src/data/synthetic.ts) that needs no data files. */
export type Task = GlueTask | 'synthetic';

export interface Example {
  textA: string;
  textB?: string;
  /** Class index; the label word is TASKS[task].labelWords[label]. */
  label: number;
}

export interface TaskInfo {
  folder: string;
  /** Header names of the text column(s) and the label column. */
  columns: { a: string; b?: string; label: string };
  /** Raw label value -> class index. */
  labelIndex: Record<string, number>;
  /** Verbalizer words in class-index order (spec §2). */
  labelWords: [string, string];
}

export const TASKS: Record<Task, TaskInfo> = {
  synthetic: {
    folder: '(built in)',
    columns: { a: 'sentence', label: 'label' },
    labelIndex: { '0': 0, '1': 1 },
    labelWords: ['negative', 'positive'],
  },
  sst2: {
    folder: 'SST-2',
    columns: { a: 'sentence', label: 'label' },
    labelIndex: { '0': 0, '1': 1 },
    labelWords: ['negative', 'positive'],
  },
  mrpc: {
    folder: 'MRPC',
    columns: { a: '#1 String', b: '#2 String', label: 'Quality' },
    labelIndex: { '0': 0, '1': 1 },
    labelWords: ['no', 'yes'],
  },
  rte: {
    folder: 'RTE',
    columns: { a: 'sentence1', b: 'sentence2', label: 'label' },
    labelIndex: { not_entailment: 0, entailment: 1 },
    labelWords: ['no', 'yes'],
  },
  qnli: {
    folder: 'QNLI',
    columns: { a: 'question', b: 'sentence', label: 'label' },
    labelIndex: { not_entailment: 0, entailment: 1 },
    labelWords: ['no', 'yes'],
  },
};

export function parseTask(name: string): Task {
  const t = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  const alias: Record<string, Task> = {
    sst2: 'sst2',
    sst: 'sst2',
    mrpc: 'mrpc',
    rte: 'rte',
    qnli: 'qnli',
    synthetic: 'synthetic',
  };
  const task = alias[t];
  if (!task) throw new Error(`unknown task '${name}' (known: ${GLUE_TASKS.join(', ')}, synthetic)`);
  return task;
}

/** Examples of a task's split: GLUE from `dataDir`, the synthetic task generated in memory. */
export function loadExamples(task: Task, split: 'train' | 'dev', dataDir: string | null): Example[] {
  if (task === 'synthetic') return syntheticExamples(split);
  if (!dataDir)
    throw new Error(
      `no GLUE data folder for ${task}: pass --data DIR or set REVMUX_DATA (looked in ./data/glue and ` +
        `../shared/data/glue)`,
    );
  return loadGlue(dataDir, task, split);
}

/**
 * The GLUE folder: an explicit one, else $REVMUX_DATA, ./data/glue or ../shared/data/glue (first
 * that exists). Returns null when none does, so callers can fall back or explain.
 */
export function findGlueDir(explicit?: string): string | null {
  const candidates = explicit
    ? [explicit]
    : [process.env.REVMUX_DATA, 'data/glue', '../shared/data/glue'].filter((x): x is string => !!x);
  for (const c of candidates) {
    const p = path.resolve(c);
    if (fs.existsSync(p) && fs.statSync(p).isDirectory()) return p;
  }
  if (explicit) throw new Error(`${explicit}: GLUE data folder not found`);
  return null;
}

export function glueFile(dir: string, task: GlueTask, split: 'train' | 'dev'): string {
  return path.join(dir, TASKS[task].folder, `${split}.tsv`);
}

export function loadGlue(dir: string, task: GlueTask, split: 'train' | 'dev'): Example[] {
  const file = glueFile(dir, task, split);
  if (!fs.existsSync(file))
    throw new Error(`${file}: not found (expected the GLUE layout <dir>/${TASKS[task].folder}/${split}.tsv)`);
  return parseGlueTsv(fs.readFileSync(file, 'utf8'), task, file);
}

export function parseGlueTsv(text: string, task: GlueTask, file = 'input'): Example[] {
  const info = TASKS[task];
  const lines = text.replace(/^\ufeff/, '').split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const header = (lines[0] ?? '').replace(/\r$/, '').split('\t');
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${file}: header has no column '${name}' (columns: ${header.join(', ')})`);
    return i;
  };
  const ia = col(info.columns.a);
  const ib = info.columns.b ? col(info.columns.b) : -1;
  const il = col(info.columns.label);
  const out: Example[] = [];
  for (let n = 1; n < lines.length; n++) {
    const fields = lines[n].replace(/\r$/, '').split('\t');
    if (fields.length !== header.length)
      throw new Error(`${file}:${n + 1}: ${fields.length} fields, the header has ${header.length}`);
    const raw = fields[il];
    // own keys only: 'constructor' or '__proto__' must not resolve through Object.prototype
    const label = Object.hasOwn(info.labelIndex, raw) ? info.labelIndex[raw] : undefined;
    if (typeof label !== 'number')
      throw new Error(`${file}:${n + 1}: label '${raw}' is not one of ${Object.keys(info.labelIndex).join(', ')}`);
    const ex: Example = { textA: fields[ia].trim(), label };
    if (ib >= 0) ex.textB = fields[ib].trim();
    out.push(ex);
  }
  if (!out.length) throw new Error(`${file}: no examples after the header`);
  return out;
}
