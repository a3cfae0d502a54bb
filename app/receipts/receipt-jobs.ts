/**
 * What the receipt use cases need from the job queue (a port: workers/receipt-jobs.ts implements
 * it on BullMQ). Kept this small so the use cases never see BullMQ or Redis.
 */
export interface ReceiptJobs {
  /**
   * Of `jobIds`, those the queue still holds live (waiting, delayed, prioritized, active): a job
   * that failed for good, completed, was removed or never existed is not live. Throws when the
   * queue cannot answer (Redis down) — then nothing may be re-driven.
   */
  liveJobIds(jobIds: readonly string[]): Promise<Set<string>>;
  /** Enqueues each receipt list under its job id. Throws when they are not all enqueued. */
  add(jobs: ReadonlyArray<{ jobId: string; receiptIds: readonly string[] }>): Promise<void>;
}
