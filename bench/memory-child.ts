// A child process of bench:memory: transformers.js's text-classification pipeline on a folder (dtype fp32 or
// q8), so its memory is read from outside like `revmux serve`'s. Prints "loaded", runs `batches` batches of
// 32 SST-2 dev sentences, prints "ran", then waits to be killed.
import path from 'node:path';
import { findGlueDir, loadExamples } from '../src/data/glue.js';
import { defaultThreads } from '../src/engine/runtime.js';

const [dir, dtype, batches] = process.argv.slice(2);
const { pipeline, env } = await import('@huggingface/transformers');
env.allowRemoteModels = false;
env.localModelPath = '/';
const pipe = await pipeline('text-classification', path.resolve(dir), {
  local_files_only: true,
  dtype: dtype as 'fp32' | 'q8',
  device: 'cpu',
  session_options: { intraOpNumThreads: defaultThreads(), interOpNumThreads: 1 },
});
console.log('loaded');
const texts = loadExamples('sst2', 'dev', findGlueDir()).map((e) => e.textA);
for (let b = 0; b < Number(batches); b++) await pipe(texts.slice(b * 32, b * 32 + 32));
console.log('ran');
setInterval(() => {}, 1 << 30);
