/**
 * R-LINK-1/3/4: which contract an alert's ticket gets, as pure selection over rows the caller
 * has loaded. Dates are plain 'YYYY-MM-DD' days (the alert's date in the company's zone, see
 * `todayIn`), all ranges inclusive on both ends like the database's daterange '[]'.
 */
import { addDays, assertIsoDate, compareDates, todayIn, type IsoDate } from '../dates';

/** A dated device → contract (and service) link; `validTo` null = open-ended (R-LINK-1). */
export interface DatedLink {
  validFrom: IsoDate;
  validTo: IsoDate | null;
  /**
   * The linked contract's own dates, when known: a link is in force only while its contract runs too
   * (R-LINK-3 "a contract effective on the alert's date"), as the alert path's statement has it.
   */
  contractStartDate?: IsoDate;
  contractEndDate?: IsoDate;
}

export interface DefaultContractCandidate {
  isDefaultServiceDesk: boolean;
  status: string;
  /** A renewal of it exists: deactivated by that renewal (R-REN-5), it stays the default on its own dates. */
  renewed?: boolean;
  startDate: IsoDate;
  endDate: IsoDate | null;
}

/** True when `link` is in force on `date` (validFrom ≤ date ≤ validTo, and its contract runs on `date` when its dates are given). */
export function isLinkEffective(link: DatedLink, date: IsoDate): boolean {
  assertIsoDate(date, 'date');
  if (link.contractStartDate !== undefined && compareDates(link.contractStartDate, date) > 0) return false;
  if (link.contractEndDate !== undefined && compareDates(date, link.contractEndDate) > 0) return false;
  return compareDates(link.validFrom, date) <= 0 && (link.validTo === null || compareDates(date, link.validTo) <= 0);
}

/**
 * R-LINK-3: the device's link in force on `date`, or null. The database forbids overlapping
 * links per device; should rows overlap anyway (hand-made data), the one that started last
 * wins, so a scheduled change takes effect on its date.
 */
export function effectiveLink<L extends DatedLink>(links: readonly L[], date: IsoDate): L | null {
  assertIsoDate(date, 'date');
  let best: L | null = null;
  for (const [i, link] of links.entries()) {
    assertIsoDate(link.validFrom, `links[${i}].validFrom`);
    if (link.validTo !== null) assertIsoDate(link.validTo, `links[${i}].validTo`);
    if (!isLinkEffective(link, date)) continue;
    if (best === null || compareDates(link.validFrom, best.validFrom) > 0) best = link;
  }
  return best;
}

/**
 * R-LINK-4: the company's default service-desk contract in effect on `date`: flagged default,
 * status 'active' — or renewed (a renewal deactivates the original, which still was the default on
 * its own dates: issue 15 item 6) — and startDate ≤ date ≤ endDate. Null when there is none.
 */
export function activeDefaultContract<C extends DefaultContractCandidate>(contracts: readonly C[], date: IsoDate): C | null {
  assertIsoDate(date, 'date');
  let best: C | null = null;
  for (const [i, c] of contracts.entries()) {
    assertIsoDate(c.startDate, `contracts[${i}].startDate`);
    if (c.endDate !== null) assertIsoDate(c.endDate, `contracts[${i}].endDate`);
    if (!c.isDefaultServiceDesk || (c.status !== 'active' && !c.renewed)) continue;
    if (compareDates(c.startDate, date) > 0) continue;
    if (c.endDate !== null && compareDates(date, c.endDate) > 0) continue;
    // One default per company and date is a database constraint; prefer the newest if not.
    if (best === null || compareDates(c.startDate, best.startDate) > 0) best = c;
  }
  return best;
}

export type ContractChoice<L, C> =
  | { kind: 'device'; link: L }
  | { kind: 'default'; contract: C }
  /** Neither: the ticket is still created, without contract, and marked for triage. */
  | { kind: 'none'; triage: true };

/**
 * R-LINK-4: a contract linked to the device overrides the company's default service-desk
 * contract; the default applies only without an effective device link; with neither the
 * ticket goes to triage. Nothing is dropped.
 */
export function chooseContract<L, C>(deviceLink: L | null | undefined, defaultContract: C | null | undefined): ContractChoice<L, C> {
  if (deviceLink !== null && deviceLink !== undefined) return { kind: 'device', link: deviceLink };
  if (defaultContract !== null && defaultContract !== undefined) return { kind: 'default', contract: defaultContract };
  return { kind: 'none', triage: true };
}

/**
 * R-LINK-1/8: what happens to the link in force when a change takes effect on `from`: it ends the
 * day before (history stays), or — when it starts on `from` itself, so it would be left with no
 * day — it is removed.
 */
export function linkCutFor(currentValidFrom: IsoDate, from: IsoDate): { kind: 'end'; validTo: IsoDate } | { kind: 'delete' } {
  return compareDates(currentValidFrom, from) < 0 ? { kind: 'end', validTo: addDays(from, -1) } : { kind: 'delete' };
}

/**
 * R-LINK-3/4, issue 15 item 5: the zone an alert's date is counted in — the company's, else the
 * zone of the SLA of the contract chosen on the date in the fallback zone, else the fallback
 * (HUB_RENEWAL_TIMEZONE, UTC by default). An alert at 00:30 Berlin time on a renewal's start date
 * belongs to the renewal when its company (or its contract's SLA) is in Berlin.
 */
export function alertDateZone(zones: { company: string | null | undefined; sla: string | null | undefined; fallback: string }): string {
  return zones.company ?? zones.sla ?? zones.fallback;
}

/** The alert's date: the day `occurredAt` falls on in `zone`. */
export function alertDate(occurredAt: Date, zone: string): IsoDate {
  return todayIn(zone, occurredAt);
}

/** What the pure model of an alert's contract choice needs of a contract: its SLA's zone, if it has an SLA. */
export interface ZonedContract {
  slaZone: string | null;
}

/**
 * The pure model of the alert path's contract choice (R-LINK-3/4, issue 15 items 5, 6 and 10): the
 * alert's date — in the company's zone, else in the zone of the SLA of the contract chosen on the
 * date in the fallback zone, else the fallback's — then the device's link in force and the
 * company's default contract on that date, and which of them the ticket gets. app/alerts/build-facts.ts
 * does the same, set-based in SQL; test/integration/contracts/contract-choice-differential.test.ts
 * holds the two equal on random histories.
 */
export function contractOnAlertDate<L extends DatedLink & ZonedContract, C extends DefaultContractCandidate & ZonedContract>(input: {
  occurredAt: Date;
  companyZone: string | null;
  fallbackZone: string;
  links: readonly L[];
  defaults: readonly C[];
}): { date: IsoDate; link: L | null; defaultContract: C | null; choice: ContractChoice<L, C> } {
  const at = (zone: string) => {
    const date = alertDate(input.occurredAt, zone);
    const link = effectiveLink(input.links, date);
    const defaultContract = activeDefaultContract(input.defaults, date);
    return { date, link, defaultContract, choice: chooseContract(link, defaultContract) };
  };
  const first = at(alertDateZone({ company: input.companyZone, sla: null, fallback: input.fallbackZone }));
  if (input.companyZone) return first;
  const chosen = first.choice.kind === 'device' ? first.choice.link : first.choice.kind === 'default' ? first.choice.contract : null;
  if (!chosen?.slaZone) return first;
  return at(alertDateZone({ company: null, sla: chosen.slaZone, fallback: input.fallbackZone }));
}
