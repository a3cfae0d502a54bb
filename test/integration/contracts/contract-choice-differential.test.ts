import fc from 'fast-check';
import { ALL_COMPANIES } from '../../../core/access/company-scope';
import { contractOnAlertDate } from '../../../core/contracts/links';
import { addDays } from '../../../core/dates';
import { isHubError } from '../../../core/errors';
import { buildFacts } from '../../../app/alerts/build-facts';
import { setDeviceContract } from '../../../app/devices/device-links';
import { renewContract } from '../../../app/renewals/renew-contract';
import { SlaCache } from '../../../app/slas/sla-cache';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { insertRow } from '../../helpers/seed';

/**
 * Issue 15 item 10: one truth for contract choice. The alert path decides in SQL, set-based
 * (app/alerts/build-facts.ts over db/queries/alert-batch.ts); core/contracts/links.ts
 * (contractOnAlertDate = alertDateZone + effectiveLink + activeDefaultContract + chooseContract) is
 * its pure model. On random histories — contracts with SLAs in several zones, a default, device
 * links and renewals made through the real use cases in random order, back-dated or future —
 * company and fallback zones, and alert instants near midnight, both give the same date, link,
 * default contract and choice (R-LINK-3/4, R-REN-5/10/12).
 */

let t: TestDatabase;
const ZONES = ['Europe/Berlin', 'America/New_York', 'Pacific/Kiritimati', 'UTC'] as const;
const slaIds = new Map<string, string>();
const TODAY = '2026-06-15';
const day = (n: number) => addDays('2026-01-01', n);
let run = 0;

beforeAll(async () => {
  t = await createTestDatabase();
  for (const z of ZONES) slaIds.set(z, (await insertRow(t.db, 'slas', { name: `sla ${z}`, code: `SLA-${z}`, timezone: z, is_24x7: true })).id);
});
afterAll(async () => t?.drop());

type Op =
  | { kind: 'link'; device: number; contract: number; from: number; len: number | null }
  | { kind: 'renew'; contract: number; start: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('link' as const), device: fc.nat(1), contract: fc.nat(5), from: fc.integer({ min: 0, max: 360 }), len: fc.option(fc.integer({ min: 0, max: 200 }), { nil: null }) }),
  fc.record({ kind: fc.constant('renew' as const), contract: fc.nat(5), start: fc.integer({ min: 60, max: 420 }) }),
);

describe('issue 15 item 10: the SQL path and the pure model choose the same contract', () => {
  it('R-LINK-3/4 property: random link/renewal histories, zones and instants', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          companyZone: fc.constantFrom<string | null>(null, ...ZONES),
          fallbackZone: fc.constantFrom('UTC', 'Europe/Berlin', 'America/Los_Angeles'),
          contracts: fc.array(fc.record({ start: fc.integer({ min: 0, max: 120 }), len: fc.integer({ min: 30, max: 300 }), zone: fc.constantFrom(...ZONES) }), { minLength: 1, maxLength: 3 }),
          defaultFirst: fc.boolean(),
          ops: fc.array(opArb, { minLength: 1, maxLength: 8 }),
          instants: fc.array(fc.record({ day: fc.integer({ min: 0, max: 450 }), minute: fc.integer({ min: 0, max: 24 * 60 - 1 }) }), { minLength: 1, maxLength: 6 }),
        }),
        async (h) => {
          run += 1;
          const db = t.db;
          const company = await insertRow(db, 'companies', { name: `co-${run}`, timezone: h.companyZone });
          const site = `site-${run}`;
          await insertRow(db, 'company_source_sites', { company_id: company.id, source: 'rmm', site_id: site });
          const service = await insertRow(db, 'services', { name: `svc-${run}`, unit_price: '10.00' });
          const contracts: string[] = [];
          for (const [i, c] of h.contracts.entries()) {
            const row = await insertRow(db, 'contracts', {
              company_id: company.id,
              name: `c-${run}-${i}`,
              type: 'recurring_service',
              period_type: 'monthly',
              start_date: day(c.start),
              end_date: day(c.start + c.len),
              sla_id: slaIds.get(c.zone),
              // One default: the exclusion constraint allows one per company and date.
              is_default_service_desk: h.defaultFirst && i === 0,
            });
            await db('contract_services').insert({ contract_id: row.id, service_id: service.id, units: 1, unit_price: '10.00' });
            contracts.push(String(row.id));
          }
          const devices = [await insertRow(db, 'devices', { company_id: company.id, hostname: `a-${run}`, site }), await insertRow(db, 'devices', { company_id: company.id, hostname: `b-${run}`, site })];
          const ctx = { scope: ALL_COMPANIES, actor: 'property', today: TODAY };
          for (const op of h.ops) {
            try {
              if (op.kind === 'link') {
                await setDeviceContract(db, { deviceId: String(devices[op.device]!.id), contractId: contracts[op.contract % contracts.length]!, serviceId: null, from: day(op.from), to: op.len === null ? null : day(op.from + op.len) }, ctx);
              } else {
                const r = await renewContract({ db }, contracts[op.contract % contracts.length]!, { startDate: day(op.start), defaultContract: 'renewal' }, ctx);
                contracts.push(String(r.renewal.id));
              }
            } catch (err) {
              // Refused operations (a link overlapping a later one, a contract renewed twice, ...) leave nothing behind.
              if (!isHubError(err)) throw err;
            }
          }

          // The model's rows, read back as they are.
          const defaults = (
            await db.raw(
              `SELECT c.id::text AS id, c.name, c.is_default_service_desk AS "isDefaultServiceDesk", c.status,
                      EXISTS (SELECT 1 FROM contracts r WHERE r.renewal_of_id = c.id) AS renewed,
                      to_char(c.start_date, 'YYYY-MM-DD') AS "startDate", to_char(c.end_date, 'YYYY-MM-DD') AS "endDate", s.timezone AS "slaZone"
                 FROM contracts c LEFT JOIN slas s ON s.id = c.sla_id WHERE c.company_id = ?`,
              [company.id],
            )
          ).rows as Array<{ id: string; name: string; isDefaultServiceDesk: boolean; status: string; renewed: boolean; startDate: string; endDate: string; slaZone: string | null }>;
          const slas = new SlaCache();
          for (const device of devices) {
            const links = (
              await db.raw(
                `SELECT c.id::text AS "contractId", to_char(l.valid_from, 'YYYY-MM-DD') AS "validFrom", to_char(l.valid_to, 'YYYY-MM-DD') AS "validTo",
                        to_char(c.start_date, 'YYYY-MM-DD') AS "contractStartDate", to_char(c.end_date, 'YYYY-MM-DD') AS "contractEndDate", s.timezone AS "slaZone"
                   FROM device_contract_links l JOIN contracts c ON c.id = l.contract_id LEFT JOIN slas s ON s.id = c.sla_id WHERE l.device_id = ?`,
                [device.id],
              )
            ).rows as Array<{ contractId: string; validFrom: string; validTo: string | null; contractStartDate: string; contractEndDate: string; slaZone: string | null }>;
            for (const i of h.instants) {
              const occurredAt = new Date(Date.UTC(2026, 0, 1 + i.day, 0, i.minute));
              const alert = {
                source_alert_id: 'x',
                dedup_key: 'x',
                state: 'firing' as const,
                severity: 'high' as const,
                category: 'disk',
                title: 't',
                message: null,
                hostname: String((device as unknown as { hostname: string }).hostname),
                site,
                labels: {},
                occurred_at: occurredAt,
                device_source_id: null,
              };
              const sql = await buildFacts(db, slas, { alert, source: 'rmm', discover: false, fallbackZone: h.fallbackZone });
              const model = contractOnAlertDate({ occurredAt, companyZone: h.companyZone, fallbackZone: h.fallbackZone, links, defaults });
              const sqlView = { date: sql.date, link: sql.deviceContract ? String(sql.deviceContract.contract_id) : null, default: sql.defaultContract ? String(sql.defaultContract.contract_id) : null };
              const modelView = { date: model.date, link: model.link?.contractId ?? null, default: model.defaultContract?.id ?? null };
              expect(sqlView).toEqual(modelView);
              expect(String(sql.device?.id)).toBe(String(device.id));
              // The ticket's contract (the default rules: device link over default) is chooseContract's.
              const chosen = model.choice.kind === 'device' ? model.choice.link.contractId : model.choice.kind === 'default' ? model.choice.contract.id : null;
              expect(sql.facts.contract?.name ?? null).toBe(chosen === null ? null : defaults.find((d) => d.id === chosen)!.name);
            }
          }
        },
      ),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 1) * 40 },
    );
  });
});
