import type { z } from 'zod';

/** One line per problem: `<source>: <key.path>: <bad value> <what is wrong>`. */
export function describeZodError(error: z.ZodError, source: string): string {
  return error.issues
    .map((issue) => {
      const key = issue.path.length ? issue.path.join('.') : '(root)';
      const got = 'input' in issue && issue.input !== undefined ? ` got ${show(issue.input)}:` : '';
      return `${source}: ${key}:${got} ${issue.message}`;
    })
    .join('\n');
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
