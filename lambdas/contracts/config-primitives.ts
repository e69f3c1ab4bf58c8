import { z } from 'zod';

/** Field types the config schema's sections share. */

export const name = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be lowercase letters, digits and dashes, starting with a letter');

export const email = z.string().regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address');

export const domain = z
  .string()
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i,
    'must be a DNS domain such as studio.example.com',
  );

/**
 * Arm (Graviton) instance families: `a1`, or a `g` among the letters after the generation
 * (c7g, m6gd, g5g, im4gn, x2gd); x86 GPU families (g4dn, g5, g6e, p5) have none.
 */
export const ARM_FAMILY = /^(a1|[a-z]+\d+[a-z-]*g[a-z-]*)$/;

/**
 * An AWS principal as API Gateway's IAM authorizer reports it: an IAM user, an IAM role (any
 * session of it), or one assumed-role session (`arn:aws:sts::<account>:assumed-role/<role>/<session>`,
 * e.g. an IAM Identity Center user whose session name is their user name).
 */
export const principalArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:(iam::\d{12}:(user|role)\/[\w+=,.@/-]+|sts::\d{12}:assumed-role\/[\w+=,.@-]+\/[\w+=,.@-]+)$/,
    'must be an IAM user or role ARN, or an STS assumed-role session ARN',
  );
