import { Router } from 'express';
import type { AppDeps } from '../context';

// Replaced by the intake implementation.
export function webhookRouter(_deps: AppDeps): Router {
  return Router();
}
