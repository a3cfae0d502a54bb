import { loadConfig } from './config/env';
import { knexConfig } from './db/connection';

// Used by `npm run db:migrate` / `db:rollback` (knex CLI). The app itself uses db/connection.ts.
const config = loadConfig();
export default knexConfig(config.DATABASE_URL, config.DATABASE_POOL_MAX);
