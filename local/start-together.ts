interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Waits for services started together. When one fails, the others may already run (a JVM, a
 * server): stops those, then rethrows the first failure — a failed start leaves nothing behind.
 */
export async function startTogether<T extends readonly Promise<Stoppable>[]>(
  starts: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.allSettled(settled.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    throw failed.reason;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<Stoppable>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}
