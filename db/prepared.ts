/**
 * Named (prepared) statements for the hot path (issue 19). An unnamed statement is parsed, analysed
 * and planned by Postgres on every call; a named one once per connection (node-postgres sends its
 * Parse the first time and only Bind/Execute after that, and Postgres keeps a generic plan once it
 * costs no more than the custom ones). Parsing and planning were about a fifth of a backend's CPU
 * on the intake and apply path; naming these statements cut Postgres' CPU per alert by a quarter to
 * a third at fixed batches (bench/README.md, issue 19, "Third round: prepared statements").
 *
 * Only for a statement whose text is fixed (one name, one text: node-postgres refuses a second text
 * under a name) and whose result columns are listed, never `*` of a table: Postgres refuses to run a
 * prepared statement whose result columns changed ("cached plan must not change result type"), which
 * a migration adding a column would do to a running process. Statements without a result or with
 * listed columns are re-planned after such a migration and keep working
 * (test/integration/db/prepared-statements.test.ts).
 */
export type PreparedName =
  | 'store_deliveries'
  | 'lock_receipts'
  | 'companies_for_sites'
  | 'devices_by_source_refs'
  | 'devices_by_hostnames'
  | 'lock_dedup_keys'
  | 'lock_tickets_for_keys'
  | 'effective_device_contracts'
  | 'active_default_contracts'
  | 'insert_tickets_or_count'
  | 'count_occurrences'
  | 'resolve_tickets'
  | 'finish_receipts'
  | 'outbox_targets'
  | 'insert_deliveries'
  // The delivery run's load of its deliveries: an eight-table join Postgres took ~2 ms to plan per run
  // (its result columns are fixed: the two rows come back as jsonb, whatever columns they gain).
  | 'load_delivery_works';

/** Query options (knex `.options()`) that make a statement a named, prepared one. */
export const prepared = (name: PreparedName): { name: string } => ({ name: `hub_${name}` });
