import { createDb } from '../../db/connection';
import { quoteIdent, templateName, urlFor, withAdminClient } from './databases';
import { ensureConsoleBuilt } from '../../scripts/build-console';
import './env';

/**
 * Runs once per `jest` run (per project): builds the console when missing or stale, then migrates a template database (named by the migrations' hash) that
 * every integration test file clones with CREATE DATABASE … TEMPLATE — fast, and each file gets
 * its own empty, migrated database.
 */
export default async function globalSetup(): Promise<void> {
  // The console's bundle (served at /console) is built at install time; a fresh edit of
  // console/src, or a clone installed without scripts, gets it rebuilt here.
  await ensureConsoleBuilt();
  const template = templateName();
  await withAdminClient(async (client) => {
    // Serialize concurrent test runs on one machine.
    await client.query('SELECT pg_advisory_lock(727272)');
    try {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
      if (exists.rowCount) return;
      const building = `${template}_building`;
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(building)}`);
      await client.query(`CREATE DATABASE ${quoteIdent(building)}`);
      const db = createDb(urlFor(building), 2);
      try {
        await db.migrate.latest();
      } finally {
        await db.destroy();
      }
      await client.query(`ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(template)}`);
      // Old templates of earlier migration sets are no longer needed — on CI's fresh machine. On a
      // developer's machine several checkouts (worktrees) with different migrations may test at once.
      if (process.env.CI !== 'true') return;
      const old = await client.query(
        "SELECT datname FROM pg_database WHERE datname LIKE 'hub_tpl_%' AND datname <> $1 AND datname NOT LIKE '%_building'",
        [template],
      );
      for (const row of old.rows as { datname: string }[]) {
        await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(row.datname)}`).catch(() => undefined);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock(727272)');
    }
  });
}
