// `revmux inspect PATH`: what a safetensors file or checkpoint folder holds.
import type { Command } from 'commander';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('list the tensors (name, dtype, shape) of a .safetensors file or a checkpoint folder')
    .argument('<path>', 'a .safetensors file, or a folder with model.safetensors or model.safetensors.index.json')
    .option('--json', 'print JSON instead of a table')
    .action(async (location: string, opts: { json?: boolean }) => {
      const { WeightStore } = await import('../io/checkpoint.js');
      const { DTYPE_BYTES } = await import('../io/safetensors.js');
      const store = WeightStore.open(location);
      try {
        const rows = store.names().map((n) => {
          const i = store.info(n);
          return {
            name: n,
            dtype: i.dtype,
            shape: i.shape,
            bytes: i.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[i.dtype],
          };
        });
        const total = rows.reduce((a, r) => a + r.bytes, 0);
        const params = rows.reduce((a, r) => a + r.shape.reduce((p, q) => p * q, 1), 0);
        if (opts.json) {
          console.log(
            JSON.stringify(
              { source: location, metadata: store.metadata(), tensors: rows, parameters: params, bytes: total },
              null,
              2,
            ),
          );
          return;
        }
        const w = Math.max(4, ...rows.map((r) => r.name.length));
        console.log(`${'name'.padEnd(w)}  dtype  shape`);
        for (const r of rows) console.log(`${r.name.padEnd(w)}  ${r.dtype.padEnd(5)}  [${r.shape.join(', ')}]`);
        console.log(
          `\n${rows.length} tensors, ${params.toLocaleString('en-US')} parameters, ${(total / 2 ** 20).toFixed(1)} MiB`,
        );
      } finally {
        store.close();
      }
    });
}
