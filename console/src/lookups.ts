/** Names of companies, contracts, services and SLAs by id, fetched once per page load (for tables and words, not decisions). */
import { get } from './api';

export interface Named {
  id: string;
  name: string;
}
export interface Lookups {
  companies: Map<string, Named>;
  contracts: Map<string, Named & { companyId: string; status: string }>;
  services: Map<string, Named>;
  slas: Map<string, Named>;
}

let cached: Promise<Lookups> | null = null;

const byId = <T extends { id: string }>(items: T[]) => new Map(items.map((i) => [i.id, i]));

async function all<T>(path: string): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 20; page++) {
    const r: { items: T[]; nextCursor: string | null } = await get(path, { limit: 200, cursor });
    out.push(...r.items);
    if (!r.nextCursor) break;
    cursor = r.nextCursor;
  }
  return out;
}

export function lookups(refresh = false): Promise<Lookups> {
  if (!cached || refresh) {
    cached = Promise.all([
      all<Named>('/companies'),
      all<Named & { companyId: string; status: string }>('/contracts'),
      all<Named>('/services'),
      all<Named>('/slas'),
    ]).then(([companies, contracts, services, slas]) => ({
      companies: byId(companies),
      contracts: byId(contracts),
      services: byId(services),
      slas: byId(slas),
    }));
    cached.catch(() => {
      cached = null;
    });
  }
  return cached;
}

export const nameOf = (m: Map<string, Named> | undefined, id: string | null | undefined): string => (id ? (m?.get(id)?.name ?? `#${id}`) : '—');
