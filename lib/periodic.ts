/**
 * Runs `tick` every `everySeconds`, the first time after `firstAfterSeconds` (0: at once). A tick
 * never overlaps the previous one (a slow tick skips the beats it overlaps); a tick that throws is
 * reported to `onError` and simply tried again at the next beat. The timers are unref'd: they never
 * keep a process alive. `stop()` clears them and waits for a tick in progress.
 */
export function startPeriodic(
  tick: () => Promise<unknown>,
  opts: { everySeconds: number; firstAfterSeconds: number; onError: (err: unknown) => void },
): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const beat = () => {
    if (running) return;
    running = tick()
      .then(() => undefined)
      .catch((err: unknown) => opts.onError(err))
      .finally(() => {
        running = null;
      });
  };
  let first: NodeJS.Timeout | undefined;
  if (opts.firstAfterSeconds <= 0) beat();
  else {
    first = setTimeout(beat, opts.firstAfterSeconds * 1000);
    first.unref();
  }
  const timer = setInterval(beat, opts.everySeconds * 1000);
  timer.unref();
  return {
    async stop() {
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
