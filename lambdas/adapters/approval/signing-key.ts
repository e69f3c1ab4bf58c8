import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ValidationError } from '../../domain/errors.js';

/** The HMAC key for approval links: from Secrets Manager on AWS, from a file locally. */
export type KeySource =
  | { kind: 'secret'; client: SecretsManagerClient; arn: string }
  | { kind: 'file'; path: string };

export async function loadSigningKey(source: KeySource): Promise<Buffer> {
  if (source.kind === 'file') {
    if (!existsSync(source.path)) {
      mkdirSync(dirname(source.path), { recursive: true });
      writeFileSync(source.path, randomBytes(32).toString('hex'), { mode: 0o600 });
    }
    return keyFrom(readFileSync(source.path, 'utf8'), source.path);
  }
  const out = await source.client.send(new GetSecretValueCommand({ SecretId: source.arn }));
  return keyFrom(out.SecretString ?? '', source.arn);
}

function keyFrom(text: string, where: string): Buffer {
  const value = text.trim();
  if (value.length < 32) throw new ValidationError(`signing key in ${where} is shorter than 32 characters`);
  return Buffer.from(value, 'utf8');
}

/** Loads the key on first use and keeps it for the life of the container; a failure is retried next call. */
export function cachedSigningKey(source: KeySource): () => Promise<Buffer> {
  let key: Promise<Buffer> | undefined;
  return () => {
    key ??= loadSigningKey(source).catch((err: unknown) => {
      key = undefined;
      throw err;
    });
    return key;
  };
}
