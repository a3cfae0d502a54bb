/**
 * Settles like `p`, or rejects with `timeoutError()` after `ms` — for calls to Redis or Postgres
 * that must not hang a request, a readiness probe or a relay sweep while the service is down.
 * Non-Error rejections are wrapped so callers always get an Error.
 */
export async function withTimeout<T>(p: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p.catch((e: unknown) => {
        throw e instanceof Error ? e : new Error(String(e));
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timeoutError()), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
