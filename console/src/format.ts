/** Display helpers: dates and instants in the browser's time zone, money with two decimals. */
export const when = (iso: string | null | undefined): string => {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit' });
};
export const money = (v: number | string | null | undefined): string => (v === null || v === undefined || v === '' ? '—' : Number(v).toFixed(2));
export const words = (s: string | null | undefined): string => (s ? s.replace(/_/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase() : '—');
export const today = (): string => new Date().toISOString().slice(0, 10);
