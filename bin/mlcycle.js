#!/usr/bin/env node
// Launcher for `npx mlcycle`: runs the TypeScript CLI through tsx, so the repository needs
// no build step between a `git pull` and a command.
import { register } from 'tsx/esm/api';

register();
await import('./mlcycle.ts');
