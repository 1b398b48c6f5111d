// The multiplexing variants' names, apart from their definitions (variants.ts), so that the command
// line can list them without loading the graph code.
export type MuxVariant = 'revmux' | 'ora' | 'vanilla';
export const MUX_VARIANTS: readonly MuxVariant[] = ['revmux', 'ora', 'vanilla'];
