// A backbone on a task: its head (with label-word ids from the model's own tokenizer) and the cached
// prefill features of the task's examples, as training, evaluation and the demo all start from.
import { encodeExamples } from '../data/batching.js';
import { type Task, loadExamples } from '../data/glue.js';
import { TextTokenizer } from '../io/tokenizer.js';
import type { Backbone } from '../models/backbone.js';
import { type Features, computeFeatures } from './features.js';
import type { MuxHead } from './heads.js';

/** Where a task's examples come from and how far they are prefilled. */
export interface FeatureSource {
  /** Backbone folder (its tokenizer.json is used). */
  model: string;
  task: Task;
  /** GLUE folder; not needed for the synthetic task. */
  dataDir: string | null;
  /** Prefill layers. */
  l: number;
  maxLength?: number; // 128
  limitTrain?: number;
  limitDev?: number;
  quiet?: boolean;
}

/** Prefilled states and SISO outputs of the dev split only (evaluation). */
export async function prepareDevFeatures(model: Backbone, o: FeatureSource): Promise<Features> {
  return (await prepareFeatures(model, o, false)).dev;
}

/** The head for a backbone on a task, with its label-word ids (T5/LLaMA) from the model's tokenizer. */
export function taskHead(
  model: Backbone,
  tokenizerDir: string,
  task: Task,
): { head: MuxHead; labelIds: [number, number] | null; tok: TextTokenizer } {
  const tok = TextTokenizer.load(tokenizerDir);
  const labelIds = model.labelTokenIds(tok, task);
  return { head: model.taskHead({ labelIds, tokenizer: tok }), labelIds, tok };
}

export async function prepareFeatures(
  model: Backbone,
  o: FeatureSource,
  withTrain = true,
): Promise<{ train: Features; dev: Features }> {
  const { head, tok } = taskHead(model, o.model, o.task);
  let train = withTrain ? loadExamples(o.task, 'train', o.dataDir) : [];
  let dev = loadExamples(o.task, 'dev', o.dataDir);
  if (o.limitTrain) train = train.slice(0, o.limitTrain);
  if (o.limitDev) dev = dev.slice(0, o.limitDev);
  const maxLength = o.maxLength ?? 128;
  const enc = (xs: typeof train) =>
    encodeExamples(
      tok,
      xs.map((e) => model.formatExample(o.task, e)),
      maxLength,
    );
  return {
    train: await computeFeatures(model, head, o.l, enc(train), tok.padId, { label: 'prefill train', quiet: o.quiet }),
    dev: await computeFeatures(model, head, o.l, enc(dev), tok.padId, { label: 'prefill dev', quiet: o.quiet }),
  };
}
