import { runProfileWorker } from '../adapters/drift/profile-worker.js';

/**
 * Worker-thread entry of parallel profiling (not a Lambda handler): the stack bundles it as
 * profile-worker.mjs next to the baseline and drift handlers, which start it per vCPU.
 */
runProfileWorker();
