// Runs src/predict.ts from source (trainer.yaml's `node predict.mjs`, local runtime node). The
// image does not ship this file: its predict.mjs is the esbuild bundle of src/predict.ts.
import { tsImport } from 'tsx/esm/api';

await tsImport('./src/predict.ts', import.meta.url);
