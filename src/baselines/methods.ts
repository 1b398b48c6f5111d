// The whole-model baselines' names, apart from their definitions (datamux.ts), so that the command
// line can list them without loading the graph code.
export type FullMuxMethod = 'datamux' | 'muxplm';
export const FULL_MUX_METHODS: readonly FullMuxMethod[] = ['datamux', 'muxplm'];
export const isFullMuxMethod = (m: string): m is FullMuxMethod => (FULL_MUX_METHODS as readonly string[]).includes(m);
