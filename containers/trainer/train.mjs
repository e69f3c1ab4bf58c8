// Runs src/train.ts from source (trainer.yaml's `node train.mjs`, local runtime node). The image
// does not ship this file: its train.mjs is the esbuild bundle of src/train.ts (see Dockerfile).
import { tsImport } from 'tsx/esm/api';

await tsImport('./src/train.ts', import.meta.url);
