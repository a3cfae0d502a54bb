/** Sender verification and secrets at rest for webhook sources (R-ALR-1). */
export * from './source-auth';
export * from './verify-sender';
export * from './secret-box';
