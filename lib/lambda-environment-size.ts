/**
 * Lambda refuses a function whose environment variables (keys and values) take more than 4 KB,
 * and only at deploy time. At synth some values are still CloudFormation references, so their
 * size is estimated: pseudo parameters by their longest value, any other reference by
 * TOKEN_BYTES, more than the longest name or ARN this stack resolves to.
 */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/** A resolved Ref or Fn::GetAtt of a resource (table name, topic ARN, state machine ARN...). */
export const TOKEN_BYTES = 128;

const PSEUDO_BYTES: Readonly<Record<string, number>> = {
  'AWS::Region': 14,
  'AWS::AccountId': 12,
  'AWS::Partition': 10,
  'AWS::URLSuffix': 16,
  'AWS::StackName': 128,
  'AWS::StackId': 150,
};

/** Estimated bytes of a resolved CloudFormation value (a string, or an intrinsic function). */
export function estimatedBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number' || typeof value === 'boolean') return String(value).length;
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.Ref === 'string') return PSEUDO_BYTES[o.Ref] ?? TOKEN_BYTES;
    const join = o['Fn::Join'];
    if (Array.isArray(join) && Array.isArray(join[1])) {
      const parts = join[1] as unknown[];
      const delimiter = typeof join[0] === 'string' ? join[0].length : 0;
      return (
        parts.reduce<number>((n, p) => n + estimatedBytes(p), 0) + delimiter * Math.max(0, parts.length - 1)
      );
    }
  }
  return TOKEN_BYTES;
}

export interface EnvironmentSize {
  readonly totalBytes: number;
  /** Variables by estimated size, largest first. */
  readonly variables: readonly { readonly key: string; readonly bytes: number }[];
}

export function environmentSize(variables: Readonly<Record<string, unknown>>): EnvironmentSize {
  const sized = Object.entries(variables)
    .map(([key, value]) => ({ key, bytes: Buffer.byteLength(key, 'utf8') + estimatedBytes(value) }))
    .sort((a, b) => b.bytes - a.bytes);
  return { totalBytes: sized.reduce((n, v) => n + v.bytes, 0), variables: sized };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

/** The synth error for a function over the limit, or undefined when it fits. */
export function environmentSizeProblem(functionName: string, size: EnvironmentSize): string | undefined {
  if (size.totalBytes <= LAMBDA_ENVIRONMENT_LIMIT_BYTES) return undefined;
  const biggest = size.variables
    .slice(0, 3)
    .map((v) => `${v.key} (${kb(v.bytes)})`)
    .join(', ');
  return (
    `${functionName}: its environment variables take about ${kb(size.totalBytes)}, over Lambda's 4 KB limit ` +
    `(deploy would fail); the largest: ${biggest}. Keep large values out of the environment (in S3, ` +
    'the registry table or SSM) or make the config section behind them smaller'
  );
}
