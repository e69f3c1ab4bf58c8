import type { z } from 'zod';

/** One line per problem: `<source>: <key.path>: <bad value> <what is wrong>`. */
export function describeZodError(error: z.ZodError, source: string): string {
  return error.issues
    .flatMap((issue) => {
      // An unknown key is named by its own path and value, not as a problem of its parent object.
      if (issue.code === 'unrecognized_keys') {
        const parent = 'input' in issue && isRecord(issue.input) ? issue.input : {};
        return issue.keys.map((key) => {
          const got = Object.hasOwn(parent, key) ? ` got ${show(parent[key])}:` : '';
          return `${source}: ${[...issue.path, key].join('.')}:${got} Unrecognized key: "${key}"`;
        });
      }
      const key = issue.path.length ? issue.path.join('.') : '(root)';
      const got = 'input' in issue && issue.input !== undefined ? ` got ${show(issue.input)}:` : '';
      return [`${source}: ${key}:${got} ${issue.message}`];
    })
    .join('\n');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
