#!/usr/bin/env node
// Runs the TypeScript CLI straight from the checkout: tsx compiles src/ on the fly.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
