// `revmux forward`: run a checkpoint on inputs from a safetensors file, write every output.
import type { Command } from 'commander';
import type { HostTensor } from '../engine/runtime.js';
import type { Precision } from '../nn/precision.js';
import { PRECISION_HELP, precision } from './args.js';

export function registerForward(program: Command): void {
  program
    .command('forward')
    .description(
      'run a model folder on input_ids / attention_mask (+ token_type_ids, decoder_input_ids) and save hidden.{k}, ' +
        'last_hidden_state and head outputs',
    )
    .requiredOption('--model <dir>', 'Hugging Face model folder (config.json + model.safetensors or sharded index)')
    .requiredOption(
      '--input <file>',
      'safetensors file with int64 [B, S] input_ids and attention_mask, optional token_type_ids (BERT) and ' +
        'decoder_input_ids (T5)',
    )
    .requiredOption('--out <file>', 'where to write the float32 outputs (safetensors, written atomically)')
    .option('--no-hidden', 'skip the per-layer hidden.{k} outputs')
    .option('--precision <p>', PRECISION_HELP, precision, 'fp32')
    .action(async (o: { model: string; input: string; out: string; hidden: boolean; precision: Precision }) => {
      const { SafetensorsFile, writeSafetensors } = await import('../io/safetensors.js');
      const { runForward } = await import('../models/forward.js');
      const { loadModel } = await import('../models/load.js');
      const model = loadModel(o.model, { precision: o.precision });
      const st = SafetensorsFile.open(o.input);
      const feeds: Record<string, HostTensor> = {};
      const inputNames = ['input_ids', 'attention_mask', 'token_type_ids', 'decoder_input_ids'];
      try {
        const other = st.names().filter((n) => !inputNames.includes(n));
        if (other.length)
          console.error(
            `note: ignoring ${other.length} tensor(s) that are not inputs: ` +
              `${other.slice(0, 5).join(', ')}${other.length > 5 ? ', ...' : ''}`,
          );
        for (const name of st.names().filter((n) => inputNames.includes(n))) {
          const info = st.info(name);
          if (!['I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'].includes(info.dtype))
            throw new Error(`${o.input}: input '${name}' is ${info.dtype}; inputs must be integer tensors`);
          feeds[name] = { data: st.readInt64(name), shape: info.shape };
        }
      } finally {
        st.close();
      }
      let out: Record<string, HostTensor>;
      try {
        out = await runForward(model, feeds, { hiddenStates: o.hidden });
      } catch (e) {
        throw new Error(`${o.input}: ${(e as Error).message}`);
      }
      writeSafetensors(
        o.out,
        Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }])),
        { model: model.source, model_type: model.modelType },
      );
      for (const [k, t] of Object.entries(out)) console.log(`${k.padEnd(28)} [${t.shape.join(', ')}]`);
      console.log(`wrote ${Object.keys(out).length} tensors to ${o.out}`);
    });
}
