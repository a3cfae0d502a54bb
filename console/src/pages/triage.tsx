/**
 * Triage: tickets without a contract or marked for triage, newest first. Assigning company, device,
 * contract and service offers only what the server says is valid for that ticket's date and device
 * (`GET /tickets/:id/options`); the server recomputes SLA and due dates and records the reason.
 */
import { useEffect, useState } from 'preact/hooks';
import { get, messageOf, patch } from '../api';
import { when, words } from '../format';
import { lookups, nameOf, type Lookups } from '../lookups';
import { roleAtLeast, type Me } from '../session';
import { slaState, type Ticket } from './tickets';

interface Choice {
  id: string;
  name: string;
}
interface Options {
  date?: string;
  companies: Choice[];
  devices: Choice[];
  contracts: Array<Choice & { services: Choice[] }>;
}

export function TriagePage({ me }: { me: Me }) {
  const [items, setItems] = useState<Ticket[] | null>(null);
  const [look, setLook] = useState<Lookups | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  useEffect(() => {
    lookups().then(setLook, () => undefined);
  }, []);
  useEffect(() => {
    get<{ items: Ticket[] }>('/tickets', { triage: 'true', status: 'new,in_progress,waiting_customer', limit: 100 }).then(
      (r) => setItems(r.items),
      (e) => setError(messageOf(e)),
    );
  }, [reload]);
  return (
    <section aria-labelledby="triage-h">
      <h1 id="triage-h">Triage</h1>
      <p class="muted">Open tickets without a contract or marked for triage, newest first.</p>
      {error && <p role="alert" class="error">{error}</p>}
      <div class="columns">
        <table aria-label="Tickets to triage">
          <thead>
            <tr>
              <th class="num">#</th>
              <th>Title</th>
              <th>Company</th>
              <th>Priority</th>
              <th>Opened</th>
            </tr>
          </thead>
          <tbody>
            {(items ?? []).map((t) => (
              <tr key={t.id} aria-selected={selected === t.id}>
                <td class="num">{t.id}</td>
                <td>
                  <button type="button" class="link" onClick={() => setSelected(t.id)}>
                    {t.title}
                  </button>
                </td>
                <td>{nameOf(look?.companies, t.companyId)}</td>
                <td>
                  <span class={`prio ${t.priority}`}>{t.priority}</span>
                </td>
                <td>{when(t.createdAt)}</td>
              </tr>
            ))}
            {items && items.length === 0 && (
              <tr>
                <td colSpan={5} class="muted">
                  Nothing to triage.
                </td>
              </tr>
            )}
          </tbody>
        </table>
        {selected ? (
          <TriageForm key={selected} me={me} id={selected} look={look} onDone={() => setReload((r) => r + 1)} />
        ) : (
          <p class="muted card">Choose a ticket to triage it.</p>
        )}
      </div>
    </section>
  );
}

function TriageForm({ me, id, look, onDone }: { me: Me; id: string; look: Lookups | null; onDone: () => void }) {
  const [t, setT] = useState<Ticket | null>(null);
  const [companyId, setCompanyId] = useState('');
  const [deviceId, setDeviceId] = useState('');
  const [contractId, setContractId] = useState('');
  const [serviceId, setServiceId] = useState('');
  const [priority, setPriority] = useState('');
  const [reason, setReason] = useState('');
  const [link, setLink] = useState(false);
  const [options, setOptions] = useState<Options | null>(null);
  const [state, setState] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const canWork = roleAtLeast(me, 'operator');

  useEffect(() => {
    get<Ticket>(`/tickets/${id}`).then((x) => {
      setT(x);
      setCompanyId(x.companyId ?? '');
      // A device that belongs to no company yet cannot be offered; choosing the company clears it.
      setDeviceId(x.companyId ? (x.deviceId ?? '') : '');
      setContractId(x.contractId ?? '');
      setServiceId(x.serviceId ?? '');
      setPriority(x.priority);
    }, (e) => setError(messageOf(e)));
  }, [id]);
  // The choices follow the chosen company and device (contracts effective on the ticket's date).
  useEffect(() => {
    if (!t) return;
    get<Options>(`/tickets/${id}/options`, { companyId: companyId || undefined, deviceId: (companyId && deviceId) || undefined }).then(
      (o) => {
        setOptions(o);
        setError(null);
      },
      (e) => setError(messageOf(e)),
    );
  }, [t, companyId, deviceId]);

  if (!t) return <p class="muted card">{error ?? 'Loading…'}</p>;
  const contract = options?.contracts.find((c) => c.id === contractId);

  const apply = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const body: Record<string, unknown> = { reason };
    if (companyId && companyId !== (t.companyId ?? '')) body.companyId = companyId;
    if (deviceId !== (t.companyId ? (t.deviceId ?? '') : '')) body.deviceId = deviceId || null;
    if (contractId !== (t.contractId ?? '') || body.companyId) body.contractId = contractId || null;
    if (serviceId !== (t.serviceId ?? '') || body.contractId !== undefined) body.serviceId = serviceId || null;
    if (priority !== t.priority) body.priority = priority;
    if (link && contractId && (deviceId || t.deviceId)) body.linkDevice = { from: options?.date ?? t.firstOccurredAt.slice(0, 10) };
    try {
      const updated = await patch<Ticket>(`/tickets/${id}`, body);
      setT(updated);
      setState(`Saved. ${updated.contractId ? `Contract ${nameOf(look?.contracts, updated.contractId)}` : 'No contract'}; response due ${when(updated.sla?.responseDueAt ?? updated.firstResponseDueAt)}, resolution due ${when(updated.sla?.resolutionDueAt ?? updated.resolutionDueAt)}.`);
      onDone();
    } catch (err) {
      setError(messageOf(err));
    }
  };

  return (
    <form class="card" onSubmit={apply} aria-label={`Triage ticket ${t.id}`}>
      <h2>
        #{t.id} {t.title}
      </h2>
      <table aria-label="Due dates">
        <tbody>
          <tr>
            <th>SLA</th>
            <td>
              {nameOf(look?.slas, t.slaId)} · {words(slaState(t))}
            </td>
          </tr>
          <tr>
            <th>Response due</th>
            <td>{when(t.sla?.responseDueAt ?? t.firstResponseDueAt)}</td>
          </tr>
          <tr>
            <th>Resolution due</th>
            <td>{when(t.sla?.resolutionDueAt ?? t.resolutionDueAt)}</td>
          </tr>
        </tbody>
      </table>
      <div class="triage-form">
        <label for="tr-company">Company</label>
        <select id="tr-company" value={companyId} onChange={(e) => { setCompanyId(e.currentTarget.value); setDeviceId(''); setContractId(''); setServiceId(''); }} disabled={!canWork}>
          <option value="">choose…</option>
          {options?.companies.map((c) => <option value={c.id}>{c.name}</option>)}
        </select>
        <label for="tr-device">Device</label>
        <select id="tr-device" value={deviceId} onChange={(e) => { setDeviceId(e.currentTarget.value); setContractId(''); setServiceId(''); }} disabled={!canWork}>
          <option value="">none</option>
          {options?.devices.map((d) => <option value={d.id}>{d.name}</option>)}
        </select>
        <label for="tr-contract">Contract</label>
        <select id="tr-contract" value={contractId} onChange={(e) => { setContractId(e.currentTarget.value); setServiceId(''); }} disabled={!canWork}>
          <option value="">none</option>
          {options?.contracts.map((c) => <option value={c.id}>{c.name}</option>)}
        </select>
        <label for="tr-service">Service</label>
        <select id="tr-service" value={serviceId} onChange={(e) => setServiceId(e.currentTarget.value)} disabled={!canWork || !contract}>
          <option value="">none</option>
          {contract?.services.map((s) => <option value={s.id}>{s.name}</option>)}
        </select>
        <label for="tr-priority">Priority</label>
        <select id="tr-priority" value={priority} onChange={(e) => setPriority(e.currentTarget.value)} disabled={!canWork}>
          {['critical', 'high', 'medium', 'low'].map((p) => <option value={p}>{p}</option>)}
        </select>
        <label for="tr-reason">Reason</label>
        <input id="tr-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} placeholder="recorded in the audit log" required disabled={!canWork} />
        <span />
        <label class="radio">
          <input type="checkbox" checked={link} onChange={(e) => setLink(e.currentTarget.checked)} disabled={!canWork || !contractId} /> Also link the device to this contract
        </label>
      </div>
      {canWork && (
        <div class="toolbar">
          <button type="submit" class="primary" disabled={!reason.trim()}>
            Assign
          </button>
        </div>
      )}
      {state && <p role="status">{state}</p>}
      {error && <p role="alert" class="error">{error}</p>}
    </form>
  );
}
