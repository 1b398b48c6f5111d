// npm run experiment:publish-model -- --run RUN_DIR --name NAME [--held-out 512] [--note TEXT]
// Commits a backbone pretrained here (issue #12): models/NAME/ gets the run's weights in float16, its
// tokenizer and a MODEL_CARD.md written from the pretrain.json of every stage of the run (a stage
// that started from another run's folder names it in options.model): architecture, data, the exact
// commands, tokens and step time, and the held-out metrics, re-measured on the float16 weights.
// Refuses a folder over 25 MB (the project's limit for committed weights).
import fs from 'node:fs';
import path from 'node:path';
import { writeTextAtomic } from '../src/io/safetensors.js';
import { readAverageRecord } from '../src/models/average.js';
import { predictsNextToken, pretrainingObjective, scoreHeldOut } from '../src/train/pretrain.js';
import { numberArg, scriptArgs } from '../src/cli/script-args.js';
import { saveForCommit } from './committed-model.js';
import { dims } from '../src/models/registry.js';

const { values: opts } = scriptArgs(
  'npm run experiment:publish-model -- --run RUN_DIR --name NAME [--held-out 512] [--note TEXT] ' +
    '[--tokenizer-note TEXT]',
  { run: undefined, name: undefined, 'held-out': undefined, note: undefined, 'tokenizer-note': undefined },
);
const run = opts.run;
const name = opts.name;
if (!run || !name) throw new Error('usage: --run RUN_DIR --name NAME');

interface Stage {
  dir: string;
  steps: number;
  tokens: number;
  seconds: number;
  heldOut: { loss: number; accuracy: number };
  options: Record<string, string | number | null>;
  /** Where the stage read the corpus (recorded since session 7; earlier stages started after the held-out part). */
  corpus_lines?: { first: number; next: number };
}

/** The run and the runs it continued, oldest first; for an average of runs, the stages of all of them. */
function lineage(dir: string): Stage[] {
  const average = readAverageRecord(dir);
  if (average) {
    const stages = average.models.flatMap(lineage);
    return stages.filter((s, i) => stages.findIndex((t) => t.dir === s.dir) === i);
  }
  const file = path.join(dir, 'pretrain.json');
  if (!fs.existsSync(file))
    throw new Error(`${file}: missing; only a finished \`revmux pretrain\` run can be published`);
  const stage = { dir, ...JSON.parse(fs.readFileSync(file, 'utf8')) } as Stage;
  const from = stage.options.model;
  return typeof from === 'string' ? [...lineage(from), stage] : [stage];
}

/** The command line that ran a stage (resumable: the same line continues an interrupted run). */
function command(s: Stage, heldOut: number): string {
  const o = s.options;
  const parts = ['npx revmux pretrain', `--arch ${o.arch ?? 'bert'}`];
  parts.push(o.model ? `--model ${o.model}` : `--preset ${o.preset}`);
  parts.push(
    `--corpus ${path.relative(process.cwd(), String(o.corpus))}`,
    `--tokenizer ${path.relative(process.cwd(), tokenizerOf(s))}`,
    `--out ${s.dir}`,
  );
  parts.push(`--seq-len ${o.seqLen}`, `--batch-size ${o.batchSize}`, `--lr ${o.lr}`, `--warmup ${o.warm}`);
  if (o.minutes) parts.push(`--minutes ${o.minutes}`);
  if (o.maxSteps) parts.push(`--max-steps ${o.maxSteps}`);
  if (!predictsNextToken(o.arch)) parts.push(`--mask-rate ${o.maskRate}`);
  if (!o.model && o.positionInit && o.positionInit !== 'random') parts.push(`--position-init ${o.positionInit}`);
  if (o.objective && o.objective !== 'mlm' && !predictsNextToken(o.arch)) parts.push(`--objective ${o.objective}`);
  // explicit, so the line reproduces the stage whatever the default start (which has changed once) becomes
  if (s.corpus_lines) parts.push(`--corpus-start-line ${s.corpus_lines.first}`);
  parts.push(`--held-out ${o.heldOut ?? heldOut}`, `--seed ${o.seed}`);
  return `REVMUX_THREADS=1 ${parts.join(' ')}`;
}

const stages = lineage(run);
const average = readAverageRecord(run);
// runs before session 4 did not record their tokenizer: every stage of a lineage shares one
const tokenizerOf = (s: Stage) =>
  String(s.options.tokenizer ?? stages.find((x) => x.options.tokenizer)?.options.tokenizer);
const last = stages[stages.length - 1];
const heldOut = numberArg('held-out', opts['held-out'] ?? String(last.options.heldOut ?? 256));
const { out, model, bytes } = saveForCommit(run, name);
const o = last.options;
const score = await scoreHeldOut({
  model: out,
  corpus: String(o.corpus),
  tokenizer: String(o.tokenizer),
  arch: String(o.arch ?? 'bert'),
  seqLen: Number(o.seqLen),
  batchSize: Number(o.batchSize),
  heldOutSequences: heldOut,
  maskRate: Number(o.maskRate),
  objective: predictsNextToken(o.arch) ? undefined : 'mlm',
});
const c = model.config as unknown as Record<string, number | string>;
const objective = pretrainingObjective(model.modelType)!;
/** What the card calls the model and its held-out metric, by objective. */
const DESCRIPTIONS = {
  'masked-lm': {
    what: 'BERT encoder (BertForMaskedLM) pretrained by masked-LM',
    metric: 'masked-token (15% of positions masked with a fixed seed)',
  },
  'next-token': {
    what: 'LLaMA-layout decoder (LlamaForCausalLM) pretrained by next-token prediction',
    metric: 'next-token',
  },
  'span-corruption': {
    what: 'T5 encoder-decoder (T5ForConditionalGeneration, v1.0 layout) pretrained by span corruption',
    metric:
      'span-corruption target-token (15% of tokens in spans of mean length 3, cut with a fixed seed; the ' +
      'targets include the sentinels and the end token, about 4 of 14 per 64-token sequence)',
  },
};
const { what, metric } = DESCRIPTIONS[objective];
const d = dims(model.config);
const layers = c.num_decoder_layers
  ? `${d.layers} encoder and ${c.num_decoder_layers} decoder blocks`
  : `${d.layers} layers`;
const tokens = stages.reduce((a, s) => a + s.tokens, 0);
const seconds = stages.reduce((a, s) => a + s.seconds, 0);
const pct = (x: number) => (100 * x).toFixed(2);
const fmt = (x: number) => x.toLocaleString('en-US');
const corpus = path.relative(process.cwd(), String(o.corpus));
const parameters = model.weights.entries().reduce((a, [, w]) => a + w.data.length, 0);
const startedFrom = (s: Stage) =>
  s.options.model
    ? `\`${s.options.model}\``
    : predictsNextToken(s.options.arch) || !s.options.positionInit || s.options.positionInit === 'random'
      ? 'random weights'
      : `random weights, ${s.options.positionInit} position init`;
const card = [
  `# ${name}`,
  '',
  `A ${what} on this project's 2-core`,
  `CPU machine with \`revmux pretrain\`. Weights in float16 (${(bytes / 1024 ** 2).toFixed(1)} MB ` +
    'in this folder); revmux loads them as float32.',
  ...(opts.note ? ['', opts.note!] : []),
  '',
  '## Architecture',
  '',
  `\`${c.model_type}\`, ${layers}, ` +
    `hidden ${d.hidden}, ${d.heads} heads, FFN ${c.intermediate_size ?? c.d_ff}, vocabulary ${fmt(d.vocab)}, ` +
    `${fmt(parameters)} parameters (config.json).`,
  '',
  '## Data and tokenizer',
  '',
  `Corpus: \`${corpus}\` (the shared Wikipedia sample), packed into ${o.seqLen}-token sequences.`,
  `Held-out: its first ${heldOut} sequences (${fmt(heldOut * Number(o.seqLen))} tokens), never trained on; ` +
    'training starts after them.',
  `Tokenizer: \`${path.relative(process.cwd(), String(o.tokenizer))}\`, copied into this folder ` +
    '(the commands below name the path it was read from).',
  ...(opts['tokenizer-note'] ? [opts['tokenizer-note']!] : []),
  '',
  '## Training, stage by stage',
  '',
  '| stage | from | tokens | step time | peak lr | warm-up | batch x seq | seed | held-out loss | held-out accuracy |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...stages.map(
    (s) =>
      `| \`${s.dir}\` | ${startedFrom(s)} | ${fmt(s.tokens)} | ${(s.seconds / 60).toFixed(0)} min | ` +
      `${s.options.lr} | ${s.options.warm} | ${s.options.batchSize} x ${s.options.seqLen} | ${s.options.seed} | ` +
      `${s.heldOut.loss.toFixed(3)} | ${pct(s.heldOut.accuracy)}% |`,
  ),
  '',
  `In all: **${fmt(tokens)} tokens**, ${(seconds / 60).toFixed(0)} minutes of step time ` +
    '(each stage on one thread, REVMUX_THREADS=1; wall time was longer, the cores were shared).',
  '',
  'Commands, in order (each resumable: the same line continues an interrupted stage):',
  '',
  '```bash',
  ...stages.map((s) => command(s, heldOut)),
  ...(average ? [`npx revmux average-weights --model ${average.models.join(' ')} --out ${run}`] : []),
  '```',
  ...(average
    ? [
        '',
        'These weights are the element-wise mean of the last weights of ' +
          average.models.map((m) => `\`${m}\``).join(' and '),
        '(checkpoint averaging; `average.json` in the run folder names them).',
      ]
    : []),
  '',
  '## Held-out metrics of these float16 weights',
  '',
  `${metric}: loss **${score.loss.toFixed(4)}** nats, accuracy **${pct(score.accuracy)}%** ` +
    `on the ${heldOut} held-out sequences`,
  `(float32 at the end of the last stage: ${last.heldOut.loss.toFixed(4)} / ${pct(last.heldOut.accuracy)}%` +
    `${average ? ', before averaging' : ''}). Reproduce:`,
  '',
  '```bash',
  `npx revmux pretrain --score-only --model ${out} --corpus ${corpus} --tokenizer ${out} --seq-len ${o.seqLen} ` +
    `--batch-size ${o.batchSize} --held-out ${heldOut}`,
  '```',
  '',
];
writeTextAtomic(path.join(out, 'MODEL_CARD.md'), card.join('\n'));
const evidence = {
  name,
  run,
  ...(average ? { average } : {}),
  stages: stages.map(({ dir, steps, tokens: t, seconds: s, heldOut: h, options }) => ({
    dir,
    steps,
    tokens: t,
    seconds: s,
    heldOut: h,
    options,
  })),
  float16_heldout: score,
  bytes,
};
fs.mkdirSync(path.join('results', 'models'), { recursive: true });
writeTextAtomic(path.join('results', 'models', `${name}.json`), JSON.stringify(evidence, null, 2) + '\n');
console.log(
  `${out}: ${(bytes / 1024 ** 2).toFixed(1)} MB, held-out loss ${score.loss.toFixed(4)}, ` +
    `accuracy ${pct(score.accuracy)}%`,
);
