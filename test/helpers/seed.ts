import type { Knex } from 'knex';
import { encryptSecrets, sourceSecretsContext, splitAuth, type SourceAuth } from '../../plugins/auth';

/** Direct inserts for integration tests that need a small world (the admin API has its own tests). */
export async function insertRow<T = { id: string }>(db: Knex, table: string, row: Record<string, unknown>): Promise<T> {
  const [r] = (await db(table).insert(row).returning('*')) as T[];
  return r!;
}

export async function createSource(
  db: Knex,
  secretKey: string,
  s: { name: string; plugin: string; auth: SourceAuth; config?: Record<string, unknown>; rateLimitPerSecond?: number; maxBodyBytes?: number; siteField?: string },
): Promise<{ id: string }> {
  const { settings, secrets } = splitAuth(s.auth);
  const { type, ...rest } = settings;
  return insertRow(db, 'sources', {
    name: s.name,
    plugin: s.plugin,
    config: JSON.stringify(s.config ?? {}),
    auth_type: type,
    auth_settings: JSON.stringify(rest),
    auth_secrets_enc: encryptSecrets(secrets, secretKey, sourceSecretsContext(s.name)),
    rate_limit_per_second: s.rateLimitPerSecond ?? null,
    max_body_bytes: s.maxBodyBytes ?? null,
    site_field: s.siteField ?? null,
  });
}

export interface World {
  company: { id: string };
  sla24x7: { id: string };
  slaOffice: { id: string };
  serviceMail: { id: string };
  servicePrint: { id: string };
  serviceDesk: { id: string };
  mailContract: { id: string };
  printerContract: { id: string };
  defaultContract: { id: string };
  mailServer: { id: string };
  printer: { id: string };
}

/**
 * The seed's example (contract-service.de.txt): the mail server on a contract with a fast 24x7 SLA,
 * the third-floor printer on a contract with a regular office-hours SLA, and a default
 * service-desk contract for everything else.
 */
export async function seedWorld(db: Knex, opts: { source: string; site: string; year?: number }): Promise<World> {
  const y = opts.year ?? 2026;
  const company = await insertRow(db, 'companies', { name: 'ACME GmbH', code: 'ACME' });
  await insertRow(db, 'company_source_sites', { company_id: company.id, source: opts.source, site_id: opts.site });
  const sla24x7 = await insertRow(db, 'slas', { name: 'Premium 24x7', code: 'PREMIUM', timezone: 'Europe/Berlin', is_24x7: true });
  const slaOffice = await insertRow(db, 'slas', { name: 'Standard', code: 'STANDARD', timezone: 'Europe/Berlin', is_24x7: false });
  for (let wd = 1; wd <= 5; wd++) await insertRow(db, 'sla_business_hours', { sla_id: slaOffice.id, weekday: wd, start_time: '08:00', end_time: '17:00' });
  await db('sla_targets').insert([
    { sla_id: sla24x7.id, priority: 'critical', first_response_minutes: 15, resolution_plan_minutes: 60, resolution_minutes: 240 },
    { sla_id: sla24x7.id, priority: 'high', first_response_minutes: 30, resolution_plan_minutes: 120, resolution_minutes: 480 },
    { sla_id: sla24x7.id, priority: 'medium', first_response_minutes: 60, resolution_plan_minutes: 240, resolution_minutes: 960 },
    { sla_id: sla24x7.id, priority: 'low', first_response_minutes: 120, resolution_plan_minutes: 480, resolution_minutes: 1440 },
    { sla_id: slaOffice.id, priority: 'critical', first_response_minutes: 60, resolution_plan_minutes: 240, resolution_minutes: 960 },
    { sla_id: slaOffice.id, priority: 'high', first_response_minutes: 120, resolution_plan_minutes: 480, resolution_minutes: 1440 },
    { sla_id: slaOffice.id, priority: 'medium', first_response_minutes: 240, resolution_plan_minutes: 960, resolution_minutes: 2880 },
    { sla_id: slaOffice.id, priority: 'low', first_response_minutes: 480, resolution_plan_minutes: 1440, resolution_minutes: 4800 },
  ]);
  const serviceMail = await insertRow(db, 'services', { name: 'Mail server management', code: 'MAIL', unit_price: '120.00' });
  const servicePrint = await insertRow(db, 'services', { name: 'Printer care', code: 'PRINT', unit_price: '15.00' });
  const serviceDesk = await insertRow(db, 'services', { name: 'Service desk', code: 'DESK', unit_price: '40.00' });
  const contract = (name: string, code: string, slaId: string, isDefault = false) =>
    insertRow(db, 'contracts', {
      company_id: company.id,
      name,
      code,
      type: 'recurring_service',
      period_type: 'yearly',
      start_date: `${y}-01-01`,
      end_date: `${y}-12-31`,
      sla_id: slaId,
      is_default_service_desk: isDefault,
    });
  const mailContract = await contract('Mail server contract', 'C-MAIL', sla24x7.id);
  const printerContract = await contract('Printer contract', 'C-PRINT', slaOffice.id);
  const defaultContract = await contract('Service desk contract', 'C-DESK', slaOffice.id, true);
  await db('contract_services').insert([
    { contract_id: mailContract.id, service_id: serviceMail.id, units: 1, unit_price: '120.00' },
    { contract_id: printerContract.id, service_id: servicePrint.id, units: 3, unit_price: '15.00' },
    { contract_id: defaultContract.id, service_id: serviceDesk.id, units: 10, unit_price: '40.00' },
  ]);
  const mailServer = await insertRow(db, 'devices', { company_id: company.id, hostname: 'mail01', site: opts.site });
  const printer = await insertRow(db, 'devices', { company_id: company.id, hostname: 'printer-3og', site: opts.site });
  await db('device_contract_links').insert([
    { device_id: mailServer.id, contract_id: mailContract.id, service_id: serviceMail.id, valid_from: `${y}-01-01` },
    { device_id: printer.id, contract_id: printerContract.id, service_id: servicePrint.id, valid_from: `${y}-01-01` },
  ]);
  return { company, sla24x7, slaOffice, serviceMail, servicePrint, serviceDesk, mailContract, printerContract, defaultContract, mailServer, printer };
}
