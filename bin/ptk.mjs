#!/usr/bin/env node
// Runs ptk from its TypeScript sources, as `npx ptk` does after `npm ci`. `npm run build` makes dist/ptk.
import { register } from 'tsx/esm/api';

register();
await import('../cmd/cli.ts');
