// `revmux export`: the model (and adapter) as a self-contained ONNX file, a transformers.js folder or a
// Triton model repository (src/export).
import type { Command } from 'commander';
import type { Precision } from '../nn/precision.js';
import { PRECISION_HELP, precision } from './args.js';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description(
      'write one self-contained ONNX file from token ids to label logits: with --adapter, the multiplexed pipeline ' +
        'for N inputs ([G, N, S] in, [G, N, 2] out); without, the SISO classifier in the folder layout ' +
        'transformers.js loads; --format triton wraps it as a Triton model repository',
    )
    .requiredOption('--model <dir>', 'frozen backbone folder (with tokenizer.json)')
    .requiredOption('--out <dir>', 'output folder')
    .option('--adapter <dir>', 'trained adapter folder: export the multiplexed pipeline')
    .option('--format <name>', 'onnx or triton', 'onnx')
    .option('--name <name>', 'Triton model name (default revmux_<task>_n<N>)')
    .option('--task <name>', "task whose labels a SISO export names (default: the model's finetuning_task, else sst2)")
    .option('--external-data', 'weights in model.onnx_data next to model.onnx (automatic past 1.5 GB)')
    .option(
      '--precision <p>',
      `${PRECISION_HELP}; a SISO int8 export is onnx/model_quantized.onnx (transformers.js dtype 'q8')`,
      precision,
      'fp32',
    )
    .action(
      async (o: {
        model: string;
        out: string;
        adapter?: string;
        format: string;
        name?: string;
        task?: string;
        externalData?: boolean;
        precision: Precision;
      }) => {
        const { exportModel } = await import('../export/onnx.js');
        if (o.format !== 'onnx' && o.format !== 'triton')
          throw new Error(`--format must be onnx or triton, got ${JSON.stringify(o.format)}`);
        const r = await exportModel({ ...o, format: o.format });
        const m = r.manifest;
        console.log(
          `wrote ${r.onnx}: ${m.kind === 'multiplexed' ? `${m.variant} N=${m.n} l=${m.l}` : 'SISO'}, inputs ` +
            `${m.inputs.map((t) => `${t.name} [${t.shape.join(', ')}]`).join(', ')} -> ` +
            `${m.outputs.map((t) => `${t.name} [${t.shape.join(', ')}]`).join(', ')}` +
            (m.external_data ? `, weights in ${m.external_data}` : ''),
        );
      },
    );
}
