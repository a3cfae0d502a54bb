/**
 * Contracts: search and open a contract (services and bundles with units and prices as of a date,
 * devices linked, notes, renewal chain), and the "Renew" wizard (renew.tsx).
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { get, messageOf } from '../api';
import { money, today, words } from '../format';
import { lookups, nameOf, type Lookups } from '../lookups';
import { roleAtLeast, type Me } from '../session';
import { RenewWizard } from './renew';

export interface ContractLine {
  serviceId?: string;
  bundleId?: string;
  name: string;
  units: number;
  unitPrice: number;
}
export interface Contract {
  id: string;
  companyId: string;
  name: string;
  code: string | null;
  type: string;
  periodType: string;
  status: string;
  startDate: string;
  endDate: string;
  slaId: string | null;
  isDefaultServiceDesk: boolean;
  renewalOfId: string | null;
  renewedById: string | null;
}
export interface ContractDetail extends Contract {
  asOf: string;
  services: ContractLine[];
  serviceBundles: ContractLine[];
  notes: Array<{ id: string; body: string; createdAt: string; author?: string | null }>;
}
interface DeviceLink {
  id: string;
  deviceId: string;
  hostname?: string;
  serviceName: string | null;
  from: string;
  to: string | null;
}

export function ContractsPage({ me, id, action }: { me: Me; id?: string; action?: string }) {
  if (id && action === 'renew') return <RenewWizard me={me} id={id} />;
  if (id) return <ContractView me={me} id={id} />;
  return <ContractList />;
}

function ContractList() {
  const [items, setItems] = useState<Contract[] | null>(null);
  const [look, setLook] = useState<Lookups | null>(null);
  const [q, setQ] = useState('');
  const [status, setStatus] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    lookups().then(setLook, (e) => setError(messageOf(e)));
  }, []);
  useEffect(() => {
    get<{ items: Contract[] }>('/contracts', { limit: 200, status: status || undefined }).then(
      (r) => setItems(r.items),
      (e) => setError(messageOf(e)),
    );
  }, [status]);
  const shown = useMemo(() => {
    const needle = q.trim().toLowerCase();
    if (!items) return [];
    if (!needle) return items;
    return items.filter((c) => `${c.name} ${c.code ?? ''} ${nameOf(look?.companies, c.companyId)}`.toLowerCase().includes(needle));
  }, [items, q, look]);
  return (
    <section aria-labelledby="contracts-h">
      <h1 id="contracts-h">Contracts</h1>
      <div class="filters">
        <label>
          Search contracts <input type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} placeholder="name, code or company" />
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">any</option>
            <option value="active">active</option>
            <option value="inactive">inactive</option>
            <option value="expired">expired</option>
          </select>
        </label>
      </div>
      {error && <p role="alert" class="error">{error}</p>}
      {!items ? (
        <p class="muted">Loading…</p>
      ) : (
        <table aria-label="Contracts">
          <thead>
            <tr>
              <th>Contract</th>
              <th>Company</th>
              <th>Type</th>
              <th>Period</th>
              <th>Status</th>
              <th>SLA</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((c) => (
              <tr key={c.id}>
                <td>
                  <a href={`#/contracts/${c.id}`}>{c.name}</a>
                  {c.isDefaultServiceDesk && <span class="badge">default service desk</span>}
                </td>
                <td>{nameOf(look?.companies, c.companyId)}</td>
                <td>{words(c.type)}</td>
                <td>
                  {c.startDate} – {c.endDate}
                </td>
                <td>
                  <span class={`status ${c.status}`}>{c.status}</span>
                </td>
                <td>{nameOf(look?.slas, c.slaId)}</td>
              </tr>
            ))}
            {shown.length === 0 && (
              <tr>
                <td colSpan={6} class="muted">
                  No contract matches.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
    </section>
  );
}

function ContractView({ me, id }: { me: Me; id: string }) {
  const [asOf, setAsOf] = useState(today());
  const [c, setC] = useState<ContractDetail | null>(null);
  const [links, setLinks] = useState<DeviceLink[]>([]);
  const [look, setLook] = useState<Lookups | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    lookups().then(setLook, () => undefined);
  }, []);
  useEffect(() => {
    get<ContractDetail>(`/contracts/${id}`, { asOf }).then(setC, (e) => setError(messageOf(e)));
    get<{ items: DeviceLink[] }>(`/contracts/${id}/device-links`, { limit: 200 }).then(
      (r) => setLinks(r.items),
      () => setLinks([]),
    );
  }, [id, asOf]);
  if (error) return <p role="alert" class="error">{error}</p>;
  if (!c) return <p class="muted">Loading…</p>;
  const renewable = c.type === 'recurring_service' && !c.renewedById && roleAtLeast(me, 'admin');
  return (
    <section aria-labelledby="contract-h">
      <p class="crumbs">
        <a href="#/contracts">Contracts</a> ›
      </p>
      <div class="title-row">
        <h1 id="contract-h">{c.name}</h1>
        {renewable && (
          <button type="button" class="primary" onClick={() => (location.hash = `#/contracts/${c.id}/renew`)}>
            Renew
          </button>
        )}
      </div>
      <dl class="facts">
        <dt>Company</dt>
        <dd>{nameOf(look?.companies, c.companyId)}</dd>
        <dt>Type</dt>
        <dd>{words(c.type)}</dd>
        <dt>Period type</dt>
        <dd>{words(c.periodType)}</dd>
        <dt>Term</dt>
        <dd>
          {c.startDate} – {c.endDate}
        </dd>
        <dt>Status</dt>
        <dd>
          <span class={`status ${c.status}`}>{c.status}</span>
        </dd>
        <dt>SLA</dt>
        <dd>{nameOf(look?.slas, c.slaId)}</dd>
        <dt>Default service desk</dt>
        <dd>{c.isDefaultServiceDesk ? 'yes' : 'no'}</dd>
        <dt>Renewal chain</dt>
        <dd>
          {c.renewalOfId ? <a href={`#/contracts/${c.renewalOfId}`}>renewal of {nameOf(look?.contracts, c.renewalOfId)}</a> : 'original'}
          {c.renewedById ? (
            <>
              {' · '}
              <a href={`#/contracts/${c.renewedById}`}>renewed by {nameOf(look?.contracts, c.renewedById)}</a>
            </>
          ) : (
            ' · not renewed'
          )}
        </dd>
      </dl>
      <div class="title-row">
        <h2>Services and bundles</h2>
        <label>
          Prices as of <input type="date" value={asOf} onChange={(e) => e.currentTarget.value && setAsOf(e.currentTarget.value)} />
        </label>
      </div>
      <table aria-label="Services and bundles">
        <thead>
          <tr>
            <th>Service or bundle</th>
            <th class="num">Units</th>
            <th class="num">Unit price</th>
            <th class="num">Total</th>
          </tr>
        </thead>
        <tbody>
          {[...c.services, ...c.serviceBundles].map((l) => (
            <tr key={`${l.serviceId ?? ''}b${l.bundleId ?? ''}`}>
              <td>
                {l.name}
                {l.bundleId && <span class="badge">bundle</span>}
              </td>
              <td class="num">{l.units}</td>
              <td class="num">{money(l.unitPrice)}</td>
              <td class="num">{money(l.units * l.unitPrice)}</td>
            </tr>
          ))}
          {c.services.length + c.serviceBundles.length === 0 && (
            <tr>
              <td colSpan={4} class="muted">
                No services.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <h2>Devices linked</h2>
      <table aria-label="Devices linked">
        <thead>
          <tr>
            <th>Device</th>
            <th>Service</th>
            <th>From</th>
            <th>To</th>
          </tr>
        </thead>
        <tbody>
          {links.map((l) => (
            <tr key={l.id}>
              <td>{l.hostname ?? `device #${l.deviceId}`}</td>
              <td>{l.serviceName ?? '—'}</td>
              <td>{l.from}</td>
              <td>{l.to ?? 'open-ended'}</td>
            </tr>
          ))}
          {links.length === 0 && (
            <tr>
              <td colSpan={4} class="muted">
                No device is linked.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <h2>Notes</h2>
      {c.notes.length === 0 ? (
        <p class="muted">No notes.</p>
      ) : (
        <ul class="notes">
          {c.notes.map((n) => (
            <li key={n.id}>
              <span class="muted">{n.createdAt.slice(0, 10)}</span> {n.body}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
