import { z } from 'zod';
import { ENV } from '../../contracts/env.js';

/** The environment every registry-backed pipeline handler requires. */
export const registryEnvSchema = z.object({
  [ENV.table]: z.string().min(1),
  [ENV.bucket]: z.string().min(1),
});
export type RegistryEnv = z.infer<typeof registryEnvSchema>;
