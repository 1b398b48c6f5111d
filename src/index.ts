// revmux's library entry point (`import { RevmuxClassifier } from 'revmux'`): inference, export,
// training and evaluation as typed functions, the same ones the CLI runs.
export {
  type ClassifierInput,
  type ClassifierOptions,
  InputTooLongError,
  type Prediction,
  RevmuxClassifier,
} from './api/classifier.js';
export { type ExportOptions, type ExportResult, type RevmuxManifest, exportModel } from './export/onnx.js';
export { type FinetuneOptions, type FinetuneResult, finetune } from './train/finetune.js';
export { type MuxTrainOptions, type MuxTrainResult, trainMux } from './train/mux-train.js';
export { type PretrainOptions, type PretrainResult, pretrain } from './train/pretrain.js';
export { evaluatePairings } from './eval/pairing.js';
export { prepareFeatures, taskHead } from './mux/task-features.js';
export { type ServeOptions, type RunningServer, startServer } from './serve/server.js';
export { loadModel } from './models/load.js';
export { SUPPORTED_MODEL_TYPES } from './models/registry.js';
export { MUX_VARIANTS, type MuxVariant } from './mux/variants.js';
export { TextTokenizer } from './io/tokenizer.js';
