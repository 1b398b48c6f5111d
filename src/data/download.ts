// `revmux data download`: the GLUE tasks from their public sources (the locations GLUE's own
// download script uses), unpacked into <dir>/<Task>/{train,dev}.tsv. MRPC is rebuilt from the
// Microsoft corpus files with GLUE's split rule. Needs internet access; says so clearly without it.
import fs from 'node:fs';
import path from 'node:path';
import { writeTextAtomic } from '../io/safetensors.js';
import { readZip } from '../io/zip.js';
import { type GlueTask, TASKS, loadGlue } from './glue.js';

export const GLUE_SOURCES = {
  zip: (folder: string) => `https://dl.fbaipublicfiles.com/glue/data/${folder}.zip`,
  mrpcTrain: 'https://dl.fbaipublicfiles.com/senteval/senteval_data/msr_paraphrase_train.txt',
  mrpcDevIds:
    'https://firebasestorage.googleapis.com/v0/b/mtl-sentence-representations.appspot.com/o/' +
    'data%2Fmrpc_dev_ids.tsv?alt=media&token=ec5c0836-31d5-48f4-b431-7480817f1adc',
};

export type Fetcher = (url: string) => Promise<Buffer>;

export async function httpFetch(url: string): Promise<Buffer> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(
      `cannot reach ${new URL(url).host} (${cause?.code ?? cause?.message ?? (e as Error).message}). This machine ` +
        `seems to have no internet access: copy the GLUE folders (SST-2, MRPC, RTE, QNLI with train.tsv and dev.tsv) ` +
        `into ./data/glue or point REVMUX_DATA at them.`,
    );
  }
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
  return Buffer.from(await res.arrayBuffer());
}

/** GLUE's MRPC rule: pairs whose (id1, id2) is in the dev id list go to dev, the rest to train. */
export function splitMrpc(trainText: string, devIds: string): { train: string; dev: string } {
  const ids = new Set(
    devIds
      .replace(/^\ufeff/, '')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => l.trim().split('\t').slice(0, 2).join('\t')),
  );
  const lines = trainText
    .replace(/^\ufeff/, '')
    .split('\n')
    .filter((l) => l.trim());
  const header = lines[0].replace(/\r$/, '');
  const train = [header];
  const dev = [header];
  for (const raw of lines.slice(1)) {
    const [label, id1, id2, s1, s2] = raw.replace(/\r$/, '').split('\t');
    const row = `${label}\t${id1}\t${id2}\t${s1}\t${s2}`;
    (ids.has(`${id1}\t${id2}`) ? dev : train).push(row);
  }
  return { train: train.join('\n') + '\n', dev: dev.join('\n') + '\n' };
}

export async function downloadGlue(
  dir: string,
  tasks: GlueTask[],
  fetcher: Fetcher = httpFetch,
  log: (s: string) => void = console.error,
): Promise<void> {
  for (const task of tasks) {
    const folder = TASKS[task].folder;
    const target = path.join(dir, folder);
    fs.mkdirSync(target, { recursive: true });
    if (task === 'mrpc') {
      const [trainText, devIds] = await Promise.all([
        fetcher(GLUE_SOURCES.mrpcTrain),
        fetcher(GLUE_SOURCES.mrpcDevIds),
      ]);
      const { train, dev } = splitMrpc(trainText.toString('utf8'), devIds.toString('utf8'));
      writeTextAtomic(path.join(target, 'train.tsv'), train);
      writeTextAtomic(path.join(target, 'dev.tsv'), dev);
    } else {
      const url = GLUE_SOURCES.zip(folder);
      const entries = readZip(await fetcher(url), url);
      for (const split of ['train', 'dev']) {
        const e = entries.find((x) => x.name.endsWith(`${folder}/${split}.tsv`));
        if (!e)
          throw new Error(
            `${url}: no ${folder}/${split}.tsv inside (entries: ${entries.map((x) => x.name).join(', ')})`,
          );
        writeTextAtomic(path.join(target, `${split}.tsv`), e.data.toString('utf8'));
      }
    }
    const n = (split: 'train' | 'dev') => loadGlue(dir, task, split).length; // parses: proves the layout
    log(`${folder}: ${n('train')} train, ${n('dev')} dev rows in ${target}`);
  }
}
