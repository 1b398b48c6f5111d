// The RevMUX paper's GLUE dev accuracies (its summary poster, ../shared/docs/revmux-spec.md §11.2, Tables A, C
// and D), for the results page to print beside ours, labelled as the paper's: its backbones are BERT-base,
// T5-small and LLaMA-3-8B on a GPU, ours are 4-layer models trained here, so only drops from each side's own
// single-input model compare, and only where the paper gives that model's accuracy.
type Task = 'sst2' | 'mrpc' | 'rte' | 'qnli';
type Row = Record<Task, number>;

export interface PaperBackbone {
  name: string;
  /** Single-input accuracy of the fine-tuned backbone, where the paper reports it. */
  siso?: Row;
  /** variant -> N -> accuracy. */
  cells: Record<string, Record<number, Row>>;
}

const row = (sst2: number, mrpc: number, rte: number, qnli: number): Row => ({ sst2, mrpc, rte, qnli });

const BERT_BASE: PaperBackbone = {
  name: 'BERT-base (paper, GPU)',
  siso: row(92.2, 87.01, 62.96, 90.55),
  cells: {
    vanilla: { 2: row(90.42, 84.78, 60.06, 88.19) },
    ora: { 2: row(90.65, 84.6, 60.41, 88.14) },
    revmux: {
      2: row(90.85, 85.06, 60.72, 88.25),
      4: row(90.28, 82.57, 59.46, 86.48),
      8: row(88.3, 78.97, 58.66, 85.17),
      16: row(85.5, 75.17, 58.13, 84.08),
    },
    datamux: { 2: row(90.5, 85.05, 60.87, 88.39) },
    muxplm: { 2: row(90.62, 83.77, 58.19, 88.17) },
  },
};

const T5_SMALL: PaperBackbone = {
  name: 'T5-small (paper, GPU)',
  cells: {
    vanilla: { 2: row(89.0, 81.72, 57.22, 85.36) },
    ora: { 2: row(89.04, 82.3, 57.51, 85.44) },
    revmux: { 2: row(89.14, 82.45, 60.22, 85.63) },
  },
};

const LLAMA3_8B: PaperBackbone = {
  name: 'LLaMA-3-8B (paper, GPU)',
  cells: {
    vanilla: { 2: row(94.01, 80.96, 82.72, 85.99) },
    ora: { 2: row(94.09, 81.08, 82.82, 86.24) },
    revmux: { 2: row(94.38, 81.3, 83.18, 86.53) },
  },
};

/** The paper's backbone of the same family as ours (by model_type), if it has one. */
export function paperBackbone(modelType: string): PaperBackbone | undefined {
  return ({ bert: BERT_BASE, t5: T5_SMALL, llama: LLAMA3_8B } as Record<string, PaperBackbone>)[modelType];
}
