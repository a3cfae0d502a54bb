import type { ConnectionCheck, ConnectionTestResult, PsaPage, PsaRecord } from '../types';
import { cwCall, cwListAll, cwPage, type CwContext } from './http';

/**
 * Reference data read from ConnectWise for `hub psa import` (R-PSA-4), as the import's normalized
 * records (app/psa/README.md "import fields"): companies, SLAs, catalog items (the hub's services),
 * agreements with their additions (contract lines) and covered configurations (R-LINK-1), and
 * configurations. Read-only and paged (`page`, `pageSize` ≤ 1000).
 * https://developer.connectwise.com/Products/ConnectWise_PSA/REST — Company, Finance, Procurement, Service.
 */
interface CwCompany {
  id: number;
  identifier?: string;
  name: string;
}
interface CwAgreement {
  id: number;
  name: string;
  company?: { id: number };
  type?: { id?: number; name?: string };
  startDate?: string | null;
  endDate?: string | null;
  sla?: { id: number } | null;
  applicationCycle?: string | null;
}
interface CwAddition {
  id: number;
  product?: { id?: number; identifier?: string };
  quantity?: number;
  unitPrice?: number;
  cancelledDate?: string | null;
}
interface CwCatalogItem {
  id: number;
  identifier?: string;
  description?: string;
  price?: number;
  cost?: number;
}
interface CwConfiguration {
  id: number;
  name: string;
  company?: { id: number };
}

const PAGE = 250;

export async function listCompanies(ctx: CwContext, cursor: string | null): Promise<PsaPage<PsaRecord>> {
  const page = await cwPage<CwCompany>(ctx, '/company/companies', { conditions: 'deletedFlag = false', fields: 'id,identifier,name', orderBy: 'id asc' }, cursor, PAGE);
  return { next: page.next, items: page.items.map((c) => ({ externalId: String(c.id), name: c.name, fields: { identifier: c.identifier ?? null } })) };
}

export async function listSlas(ctx: CwContext, cursor: string | null): Promise<PsaPage<PsaRecord>> {
  const page = await cwPage<{ id: number; name: string }>(ctx, '/service/SLAs', { fields: 'id,name', orderBy: 'id asc' }, cursor, PAGE);
  return { next: page.next, items: page.items.map((s) => ({ externalId: String(s.id), name: s.name, fields: {} })) };
}

/** Catalog items are what agreement additions sell: the hub's services. */
export async function listServices(ctx: CwContext, cursor: string | null): Promise<PsaPage<PsaRecord>> {
  const page = await cwPage<CwCatalogItem>(ctx, '/procurement/catalog', { conditions: 'inactiveFlag = false', fields: 'id,identifier,description,price,cost', orderBy: 'id asc' }, cursor, PAGE);
  return {
    next: page.next,
    items: page.items.map((p) => ({ externalId: String(p.id), name: p.identifier ?? p.description ?? `Item ${p.id}`, fields: { unitPrice: p.price ?? null, unitCost: p.cost ?? null } })),
  };
}

/** Agreements, each with its additions (contract lines) and the configurations it covers. */
export async function listContracts(ctx: CwContext, cursor: string | null): Promise<PsaPage<PsaRecord>> {
  const page = await cwPage<CwAgreement>(ctx, '/finance/agreements', { conditions: 'cancelledFlag = false', orderBy: 'id asc' }, cursor, PAGE);
  const items: PsaRecord[] = [];
  for (const a of page.items) {
    const additions = await cwListAll<CwAddition>(ctx, `/finance/agreements/${a.id}/additions`, { orderBy: 'id asc' });
    const configurations = await cwListAll<{ id: number }>(ctx, `/finance/agreements/${a.id}/configurations`, { fields: 'id', orderBy: 'id asc' });
    items.push({
      externalId: String(a.id),
      name: a.name,
      fields: {
        companyId: a.company?.id ?? null,
        startDate: a.startDate ?? null,
        endDate: a.endDate ?? null,
        slaId: a.sla?.id ?? null,
        typeName: a.type?.name ?? null,
        periodType: a.applicationCycle ?? null,
        services: additions
          .filter((x) => !x.cancelledDate && x.product?.id !== undefined)
          .map((x) => ({ serviceId: x.product!.id, units: x.quantity ?? 1, unitPrice: x.unitPrice ?? null })),
        configurationItemIds: configurations.map((c) => c.id),
      },
    });
  }
  return { next: page.next, items };
}

export async function listConfigurationItems(ctx: CwContext, cursor: string | null): Promise<PsaPage<PsaRecord>> {
  const page = await cwPage<CwConfiguration>(ctx, '/company/configurations', { conditions: 'activeFlag = true', fields: 'id,name,company', orderBy: 'id asc' }, cursor, PAGE);
  return { next: page.next, items: page.items.map((c) => ({ externalId: String(c.id), name: c.name, fields: { companyId: c.company?.id ?? null, contractId: null } })) };
}

/** `POST /psa-connections/:name/test`: credentials (system info), then the configured board. */
export async function testConnection(ctx: CwContext): Promise<ConnectionTestResult> {
  const checks: ConnectionCheck[] = [];
  const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
  try {
    const info = await cwCall<{ version?: string }>(ctx, { method: 'GET', path: '/system/info' });
    checks.push({ name: 'credentials', ok: true, detail: `signed in (ConnectWise ${info?.version ?? 'unknown version'})` });
  } catch (e) {
    checks.push({ name: 'credentials', ok: false, detail: message(e) });
    return { ok: false, checks };
  }
  try {
    const board = ctx.config.board;
    const conditions = typeof board === 'number' ? `id = ${board}` : `name = "${board.replace(/"/g, '')}"`;
    const boards = await cwCall<Array<{ id: number; name: string }>>(ctx, { method: 'GET', path: '/service/boards', query: { conditions, fields: 'id,name' } });
    const found = Array.isArray(boards) ? boards[0] : undefined;
    checks.push(found ? { name: 'board', ok: true, detail: `board "${found.name}" (${found.id}) found` } : { name: 'board', ok: false, detail: `no service board ${JSON.stringify(board)}` });
  } catch (e) {
    checks.push({ name: 'board', ok: false, detail: message(e) });
  }
  return { ok: checks.every((c) => c.ok), checks };
}
