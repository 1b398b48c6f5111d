// The revmux command line. Each command lives in its own module and registers itself here.
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { registerAverage } from './average.js';
import { registerBench } from './bench.js';
import { registerData } from './data.js';
import { registerDemo } from './demo.js';
import { registerEval } from './eval.js';
import { registerExport } from './export.js';
import { registerFinetune } from './finetune.js';
import { registerFlops } from './flops.js';
import { registerForward } from './forward.js';
import { registerInspect } from './inspect.js';
import { registerPretrain } from './pretrain.js';
import { registerServe } from './serve.js';
import { registerTrain } from './train.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string; description: string };

export function buildProgram(): Command {
  const program = new Command('revmux')
    .description(pkg.description)
    .version(pkg.version, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: true });
  registerAverage(program);
  registerBench(program);
  registerData(program);
  registerDemo(program);
  registerEval(program);
  registerExport(program);
  registerFinetune(program);
  registerFlops(program);
  registerForward(program);
  registerInspect(program);
  registerPretrain(program);
  registerServe(program);
  registerTrain(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  // `revmux inspect ... | head` closes stdout early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    const err = e as Error;
    // User-facing errors carry a message that names the file, field or value; the stack is noise.
    console.error(`revmux: ${err.message}`);
    if (process.env.REVMUX_DEBUG) console.error(err.stack);
    process.exitCode = 1;
  }
}

await main(process.argv);
