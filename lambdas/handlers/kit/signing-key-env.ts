import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import type { KeySource } from '../../adapters/approval/signing-key.js';
import { withTransientErrors } from '../../adapters/transient-errors.js';
import { ENV } from '../../contracts/env.js';

/** Either the Secrets Manager secret (AWS) or a key file (embedded default) must be set. */
export const signingKeyEnvSchema = z
  .object({
    [ENV.signingSecretArn]: z.string().min(1).optional(),
    [ENV.signingSecretFile]: z.string().min(1).optional(),
  })
  .refine((e) => e[ENV.signingSecretArn] || e[ENV.signingSecretFile], {
    message: `set ${ENV.signingSecretArn} (AWS) or ${ENV.signingSecretFile} (local)`,
    path: [ENV.signingSecretArn],
  });

export function keySourceFrom(env: z.infer<typeof signingKeyEnvSchema>): KeySource {
  const file = env[ENV.signingSecretFile];
  if (file) return { kind: 'file', path: file };
  return {
    kind: 'secret',
    client: withTransientErrors(new SecretsManagerClient({})),
    arn: env[ENV.signingSecretArn] as string,
  };
}
