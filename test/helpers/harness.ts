import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { createDb } from '../../db/connection';
import { quoteIdent, templateName, urlFor, withAdminClient } from './databases';

export interface TestDatabase {
  name: string;
  url: string;
  db: Knex;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database of its own for one test file (cloned from the template that
 * global-setup migrated), so files run in parallel and never see each other's data.
 */
export async function createTestDatabase(opts: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `hub_t_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  await withAdminClient(async (client) => {
    if (opts.migrated === false) await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
    else await client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(templateName())}`);
  });
  const url = urlFor(name);
  const db = createDb(url, 5);
  return {
    name,
    url,
    db,
    async drop() {
      await db.destroy();
      await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
    },
  };
}

/** A BullMQ prefix of its own (a Redis Cluster hash tag, like production's). */
export function testQueuePrefix(): string {
  return `{hubtest-${process.pid}-${crypto.randomBytes(3).toString('hex')}}`;
}
