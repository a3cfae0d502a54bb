/**
 * The renewal wizard (R-REN-3..15): every field is prefilled by the server's preview and every edit
 * re-runs it, so the defaults, the end date, the uplifted prices, what stays behind and whether the
 * default-contract question must be asked all come from the server — this page computes none of them.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, get, messageOf, post } from '../api';
import { money, words } from '../format';
import { lookups, nameOf, type Lookups } from '../lookups';
import type { Me } from '../session';
import type { ContractDetail } from './contracts';

interface ProposalLine {
  serviceId?: string;
  bundleId?: string;
  units: number;
  originalUnitPrice: number;
  upliftedUnitPrice: number;
  unitPrice: number;
  priceOverridden: boolean;
}
interface Proposal {
  contract: { companyId: string; name: string; periodType: string; startDate: string; endDate: string; slaId: string | null };
  priceUpliftPercent: number | null;
  services: ProposalLine[];
  serviceBundles: ProposalLine[];
  original: { endsEarly: boolean; currentEndDate: string; newEndDate: string; deactivatedOn: string | null };
  defaultServiceDesk: {
    originalIsDefault: boolean;
    conflicts: Array<{ id: string; name: string }>;
    choiceRequired: boolean;
    choice: 'renewal' | 'existing' | null;
    renewalIsDefault: boolean;
  };
  schedule: { effectiveDate: string; scheduled: boolean };
}
interface LeftList<T> {
  count: number;
  items: T[];
}
interface LeftBehind {
  originalEndDate: string;
  openTickets: LeftList<{ id: string; title: string; status: string }>;
  openProjects: LeftList<{ id: string; name: string }>;
  chargesAfterEnd: LeftList<{ id: string; chargeDate: string; description: string; amount: number }>;
  timeEntriesAfterEnd: LeftList<{ id: string; workDate: string; hours: number }>;
}
interface Preview {
  proposal: Proposal;
  leftBehind: LeftBehind;
}
interface RenewResult extends Preview {
  renewal: { id: string; name: string; startDate: string; endDate: string; status: string };
  application: { state?: string; effectiveDate?: string } & Record<string, unknown>;
  deviceLinks: { moved: number; rescheduled: number };
}

interface Edits {
  name?: string;
  startDate?: string;
  endDate?: string;
  priceUpliftPercent?: string;
  unitPrices: Record<string, string>;
  bundleUnitPrices: Record<string, string>;
  defaultContract?: 'renewal' | 'existing';
}

/** The request body: only what the admin changed; the server fills in the rest. */
function bodyOf(e: Edits): Record<string, unknown> {
  const b: Record<string, unknown> = {};
  if (e.name !== undefined) b.name = e.name;
  if (e.startDate) b.startDate = e.startDate;
  if (e.endDate) b.endDate = e.endDate;
  if (e.priceUpliftPercent !== undefined) b.priceUpliftPercent = e.priceUpliftPercent.trim() === '' ? null : e.priceUpliftPercent.trim();
  const prices = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).filter(([, v]) => v.trim() !== ''));
  if (Object.keys(prices(e.unitPrices)).length) b.unitPrices = prices(e.unitPrices);
  if (Object.keys(prices(e.bundleUnitPrices)).length) b.bundleUnitPrices = prices(e.bundleUnitPrices);
  if (e.defaultContract) b.defaultContract = e.defaultContract;
  return b;
}

export function RenewWizard({ id }: { me: Me; id: string }) {
  const [original, setOriginal] = useState<ContractDetail | null>(null);
  const [look, setLook] = useState<Lookups | null>(null);
  const [edits, setEdits] = useState<Edits>({ unitPrices: {}, bundleUnitPrices: {} });
  const [preview, setPreview] = useState<Preview | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const [confirmError, setConfirmError] = useState<string | null>(null);
  const [askDefault, setAskDefault] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<RenewResult | null>(null);
  const seq = useRef(0);

  useEffect(() => {
    get<ContractDetail>(`/contracts/${id}`).then(setOriginal, (e) => setPreviewError(messageOf(e)));
    lookups().then(setLook, () => undefined);
  }, [id]);

  // Every edit re-runs the preview (debounced); an older answer never overwrites a newer one.
  useEffect(() => {
    const mine = ++seq.current;
    const t = setTimeout(() => {
      post<Preview>(`/contracts/${id}/renewal/preview`, bodyOf(edits)).then(
        (p) => {
          if (mine !== seq.current) return;
          setPreview(p);
          setPreviewError(null);
        },
        (e) => mine === seq.current && setPreviewError(messageOf(e)),
      );
    }, 250);
    return () => clearTimeout(t);
  }, [id, edits]);

  const set = (patch: Partial<Edits>) => setEdits((e) => ({ ...e, ...patch }));

  const confirm = async () => {
    setBusy(true);
    setConfirmError(null);
    try {
      setResult(await post<RenewResult>(`/contracts/${id}/renewal`, bodyOf(edits)));
      void lookups(true);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'DEFAULT_CONTRACT_CHOICE_REQUIRED') setAskDefault(true);
      setConfirmError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  if (result) {
    return (
      <section aria-labelledby="renewed-h">
        <h1 id="renewed-h">Contract renewed</h1>
        <div class="card success" role="status">
          <p>
            <strong>{result.renewal.name}</strong> runs {result.renewal.startDate} – {result.renewal.endDate} ({result.renewal.status}).
          </p>
          <p>
            {result.proposal.schedule.scheduled
              ? `The switch-over (original ends, devices move) is scheduled for ${result.proposal.schedule.effectiveDate}.`
              : `The original now ends on ${result.proposal.original.newEndDate}; ${result.deviceLinks.moved} device link(s) moved to the renewal.`}
          </p>
          <p>
            <a href={`#/contracts/${result.renewal.id}`}>Open the renewal</a> · <a href={`#/contracts/${id}`}>Back to the original</a>
          </p>
        </div>
        <LeftBehindList left={result.leftBehind} />
      </section>
    );
  }

  const p = preview?.proposal;
  const d = p?.defaultServiceDesk;
  const showQuestion = Boolean(d && d.originalIsDefault && d.conflicts.length > 0) || askDefault;
  const lineName = (l: ProposalLine) =>
    l.serviceId
      ? (original?.services.find((s) => s.serviceId === l.serviceId)?.name ?? nameOf(look?.services, l.serviceId))
      : (original?.serviceBundles.find((b) => b.bundleId === l.bundleId)?.name ?? `bundle #${l.bundleId}`);

  return (
    <section aria-labelledby="renew-h">
      <p class="crumbs">
        <a href="#/contracts">Contracts</a> › <a href={`#/contracts/${id}`}>{original?.name ?? `#${id}`}</a> ›
      </p>
      <h1 id="renew-h">Renew {original?.name ?? 'contract'}</h1>
      {!p ? (
        previewError ? <p role="alert" class="error">{previewError}</p> : <p class="muted">Loading the proposal…</p>
      ) : (
        <div class="wizard">
          <form class="card form-grid" onSubmit={(e) => e.preventDefault()} aria-label="Renewal">
            <label for="rn-company">Company</label>
            <input id="rn-company" value={nameOf(look?.companies, p.contract.companyId)} disabled />
            <label for="rn-period">Period type</label>
            <input id="rn-period" value={words(p.contract.periodType)} disabled />
            <label for="rn-name">Contract name</label>
            <input id="rn-name" value={edits.name ?? p.contract.name} onInput={(e) => set({ name: e.currentTarget.value })} />
            <label for="rn-start">Start date</label>
            <input id="rn-start" type="date" value={edits.startDate ?? p.contract.startDate} onInput={(e) => set({ startDate: e.currentTarget.value })} />
            <label for="rn-end">End date</label>
            <input id="rn-end" type="date" value={edits.endDate ?? p.contract.endDate} onInput={(e) => set({ endDate: e.currentTarget.value })} />
            <label for="rn-uplift">Price uplift (%)</label>
            <input
              id="rn-uplift"
              inputMode="decimal"
              placeholder="none"
              value={edits.priceUpliftPercent ?? (p.priceUpliftPercent === null ? '' : String(p.priceUpliftPercent))}
              onInput={(e) => set({ priceUpliftPercent: e.currentTarget.value })}
            />
            {[...p.services, ...p.serviceBundles].map((l) => {
              const key = l.serviceId ?? l.bundleId ?? '';
              const map = l.serviceId ? edits.unitPrices : edits.bundleUnitPrices;
              const field = l.serviceId ? 'unitPrices' : 'bundleUnitPrices';
              const label = `Unit price: ${lineName(l)}`;
              return (
                <>
                  <label for={`rn-price-${field}-${key}`}>{label}</label>
                  <span class="with-hint">
                    <input
                      id={`rn-price-${field}-${key}`}
                      inputMode="decimal"
                      value={map[key] ?? money(l.unitPrice)}
                      onInput={(e) => set({ [field]: { ...map, [key]: e.currentTarget.value } })}
                    />
                    <span class="muted">
                      {l.units} unit(s); was {money(l.originalUnitPrice)}
                      {l.upliftedUnitPrice !== l.originalUnitPrice ? `, uplifted ${money(l.upliftedUnitPrice)}` : ''}
                    </span>
                  </span>
                </>
              );
            })}
          </form>
          <div class="side">
            <div class="card">
              <h2>What happens</h2>
              <ul>
                <li>
                  The original {p.original.endsEarly ? `ends early, on ${p.original.newEndDate}` : `keeps its end date ${p.original.newEndDate}`}.
                </li>
                <li>{p.schedule.scheduled ? `Scheduled: takes effect on ${p.schedule.effectiveDate}.` : 'Takes effect now.'}</li>
                <li>{d?.renewalIsDefault ? 'The renewal becomes the default service-desk contract.' : 'The renewal is not the default service-desk contract.'}</li>
              </ul>
            </div>
            {showQuestion && d && (
              <fieldset class="card question">
                <legend>Default service-desk contract</legend>
                <p>
                  {original?.name} is the default service-desk contract, but {d.conflicts.map((c) => c.name).join(', ')} is already the default on the
                  renewal's dates. Which one is the default from now on?
                </p>
                <label class="radio">
                  <input type="radio" name="default-contract" checked={edits.defaultContract === 'renewal'} onChange={() => set({ defaultContract: 'renewal' })} />
                  The renewal
                </label>
                <label class="radio">
                  <input type="radio" name="default-contract" checked={edits.defaultContract === 'existing'} onChange={() => set({ defaultContract: 'existing' })} />
                  Keep {d.conflicts.map((c) => c.name).join(', ')}
                </label>
              </fieldset>
            )}
            <LeftBehindList left={preview.leftBehind} />
            {previewError && <p role="alert" class="error">{previewError}</p>}
            {confirmError && <p role="alert" class="error">{confirmError}</p>}
            <button type="button" class="primary big" onClick={confirm} disabled={busy || Boolean(previewError) || (showQuestion && !edits.defaultContract)}>
              Confirm renewal
            </button>
          </div>
        </div>
      )}
    </section>
  );
}

function LeftBehindList({ left }: { left: LeftBehind }) {
  const rows: string[] = [
    ...left.openTickets.items.map((t) => `Open ticket #${t.id}: ${t.title} (${words(t.status)})`),
    ...left.openProjects.items.map((p) => `Open project: ${p.name}`),
    ...left.chargesAfterEnd.items.map((c) => `Charge ${c.chargeDate}: ${c.description} (${money(c.amount)})`),
    ...left.timeEntriesAfterEnd.items.map((t) => `Time entry ${t.workDate}: ${t.hours} h`),
  ];
  const total = left.openTickets.count + left.openProjects.count + left.chargesAfterEnd.count + left.timeEntriesAfterEnd.count;
  return (
    <div class="card">
      <h2 id="left-behind-h">Left behind</h2>
      <p class="muted">Stays on the original (ends {left.originalEndDate}); not transferred to the renewal.</p>
      <ul aria-labelledby="left-behind-h" class="left-behind">
        {rows.map((r) => (
          <li key={r}>{r}</li>
        ))}
        {total === 0 && <li class="muted">Nothing is left behind.</li>}
        {total > rows.length && <li class="muted">… and {total - rows.length} more</li>}
      </ul>
    </div>
  );
}
