import { ConnectWiseError, cwCall, cwListAll, type CwFetch } from './http';
import type { ConnectWiseConfig } from './schema';

/**
 * Reference data read from ConnectWise for `hub psa import` (R-PSA-4): companies, agreements with
 * their additions (the hub's contract lines) and their configurations (R-LINK-1), SLAs and
 * configurations. Read-only; every list is paged (ConnectWise: `page`, `pageSize` ≤ 1000).
 * https://developer.connectwise.com/Products/ConnectWise_PSA/REST — Company, Finance, Service modules.
 */
export interface CwCompany {
  id: number;
  identifier?: string;
  name: string;
  deletedFlag?: boolean;
}
export interface CwAgreement {
  id: number;
  name: string;
  company?: { id: number };
  type?: { id?: number; name?: string };
  startDate?: string | null;
  endDate?: string | null;
  noEndingDateFlag?: boolean;
  cancelledFlag?: boolean;
  sla?: { id: number } | null;
  applicationCycle?: string | null;
  billCycle?: string | null;
}
export interface CwAddition {
  id: number;
  product?: { id?: number; identifier?: string; description?: string };
  quantity?: number;
  unitPrice?: number;
  unitCost?: number;
  cancelledDate?: string | null;
}
export interface CwSla {
  id: number;
  name: string;
}
export interface CwConfiguration {
  id: number;
  name: string;
  company?: { id: number };
  serialNumber?: string | null;
  deviceIdentifier?: string | null;
  activeFlag?: boolean;
}

export interface CwProgress {
  (step: string, done: number): void;
}

const opts = (fetchImpl: CwFetch | undefined, onPage?: (n: number) => void) => ({
  pageSize: 250,
  fetchImpl,
  onPage: (items: unknown[]) => onPage?.(items.length),
});

export const listCompanies = (config: ConnectWiseConfig, fetchImpl?: CwFetch, onPage?: (n: number) => void) =>
  cwListAll<CwCompany>(config, '/company/companies', { conditions: 'deletedFlag = false', fields: 'id,identifier,name,deletedFlag', orderBy: 'id asc' }, opts(fetchImpl, onPage));

export const listAgreements = (config: ConnectWiseConfig, fetchImpl?: CwFetch, onPage?: (n: number) => void) =>
  cwListAll<CwAgreement>(config, '/finance/agreements', { conditions: 'cancelledFlag = false', orderBy: 'id asc' }, opts(fetchImpl, onPage));

export const listAgreementAdditions = (config: ConnectWiseConfig, agreementId: number, fetchImpl?: CwFetch) =>
  cwListAll<CwAddition>(config, `/finance/agreements/${agreementId}/additions`, { orderBy: 'id asc' }, opts(fetchImpl));

/** The configurations covered by an agreement (the link of R-LINK-1 on the ConnectWise side). */
export const listAgreementConfigurations = (config: ConnectWiseConfig, agreementId: number, fetchImpl?: CwFetch) =>
  cwListAll<{ id: number }>(config, `/finance/agreements/${agreementId}/configurations`, { fields: 'id', orderBy: 'id asc' }, opts(fetchImpl));

export const listSlas = (config: ConnectWiseConfig, fetchImpl?: CwFetch, onPage?: (n: number) => void) =>
  cwListAll<CwSla>(config, '/service/SLAs', { fields: 'id,name', orderBy: 'id asc' }, opts(fetchImpl, onPage));

export const listConfigurations = (config: ConnectWiseConfig, fetchImpl?: CwFetch, onPage?: (n: number) => void) =>
  cwListAll<CwConfiguration>(
    config,
    '/company/configurations',
    { conditions: 'activeFlag = true', fields: 'id,name,company,serialNumber,deviceIdentifier,activeFlag', orderBy: 'id asc' },
    opts(fetchImpl, onPage),
  );

export interface CwCheck {
  check: string;
  ok: boolean;
  message: string;
}

/** `POST /psa-connections/:name/test`: credentials (system info), then the configured board. */
export async function testConnection(config: ConnectWiseConfig, fetchImpl?: CwFetch): Promise<CwCheck[]> {
  const checks: CwCheck[] = [];
  try {
    const info = await cwCall<{ version?: string }>(config, { method: 'GET', path: '/system/info' }, fetchImpl);
    checks.push({ check: 'credentials', ok: true, message: `signed in (ConnectWise ${info?.version ?? 'unknown version'})` });
  } catch (e) {
    checks.push({ check: 'credentials', ok: false, message: e instanceof Error ? e.message : String(e) });
    return checks;
  }
  try {
    const conditions = typeof config.board === 'number' ? `id = ${config.board}` : `name = "${config.board.replace(/"/g, '')}"`;
    const boards = await cwCall<Array<{ id: number; name: string }>>(config, { method: 'GET', path: '/service/boards', query: { conditions, fields: 'id,name' } }, fetchImpl);
    const board = Array.isArray(boards) ? boards[0] : undefined;
    checks.push(
      board
        ? { check: 'board', ok: true, message: `board "${board.name}" (${board.id}) found` }
        : { check: 'board', ok: false, message: `no service board ${JSON.stringify(config.board)}` },
    );
  } catch (e) {
    checks.push({ check: 'board', ok: false, message: e instanceof ConnectWiseError ? e.message : String(e) });
  }
  return checks;
}
