import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import type { MlcycleConfig } from '../../contracts/config-schema.js';
import { ENV } from '../../contracts/env.js';
import type { Caller } from '../../contracts/routes.js';
import { ForbiddenError } from '../../domain/errors.js';
import { personOf } from '../../domain/identity/principal.js';

export const authModeSchema = z.enum(['iam', 'local']);
export type AuthMode = z.infer<typeof authModeSchema>;
export const authEnvSchema = z.object({ [ENV.authMode]: authModeSchema });

const contextSchema = z.object({
  authorizer: z
    .object({
      iam: z.object({ userArn: z.string().min(1) }).optional(),
      lambda: z.object({ localActor: z.string().min(1) }).optional(),
    })
    .optional(),
});

/**
 * Who calls a control route. On AWS (`iam`) only API Gateway's IAM authorizer is believed: the
 * signed caller's principal, mapped to a person by the deployed config's `identities`. Locally,
 * the embedded default's gateway passes the `--as` name (no authentication: a single-user
 * convenience, see docs/security.md). A mode never falls back to the other.
 */
export function callerOf(event: APIGatewayProxyEventV2, mode: AuthMode, config: MlcycleConfig): Caller {
  const context = contextSchema.safeParse(event.requestContext);
  const authorizer = context.success ? context.data.authorizer : undefined;
  if (mode === 'local') {
    const actor = authorizer?.lambda?.localActor;
    if (!actor) throw new ForbiddenError('no actor: the local gateway passes the --as name');
    return { person: actor.trim().toLowerCase(), principal: null };
  }
  const principal = authorizer?.iam?.userArn;
  if (!principal) {
    throw new ForbiddenError('this route needs a SigV4-signed request (IAM); none was presented');
  }
  const person = personOf(config.identities, principal);
  if (!person) {
    throw new ForbiddenError(
      `${principal} is not mapped to a person: add it under identities in mlcycle.config.yaml and redeploy`,
    );
  }
  return { person, principal };
}
