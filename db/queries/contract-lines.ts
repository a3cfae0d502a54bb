import type { Db } from '../connection';
import type { IsoDate, Money } from '../tables';

/**
 * Services and bundles on a contract, with their dated adjustments (R-REN-7/8). One exported
 * function per statement.
 */

export type LineKind = 'service' | 'bundle';

const LINE = {
  service: {
    table: 'contract_services',
    item: 'service_id',
    adjustments: 'contract_service_adjustments',
    adjustmentFk: 'contract_service_id',
    catalogue: 'services',
  },
  bundle: {
    table: 'contract_bundles',
    item: 'bundle_id',
    adjustments: 'contract_bundle_adjustments',
    adjustmentFk: 'contract_bundle_id',
    catalogue: 'service_bundles',
  },
} as const;

/** A contract service or bundle, with the catalogue item's id and name. */
export interface ContractLineRow {
  id: string;
  contract_id: string;
  item_id: string;
  item_name: string;
  units: Money;
  unit_price: Money;
  unit_cost: Money | null;
}

export interface LineAdjustmentRow {
  id: string;
  line_id: string;
  item_id: string;
  effective_date: IsoDate;
  units: Money | null;
  unit_price: Money | null;
  created_at: Date;
}

export async function listContractLines(db: Db, kind: LineKind, contractId: string): Promise<ContractLineRow[]> {
  const t = LINE[kind];
  return (await db(`${t.table} as l`)
    .join(`${t.catalogue} as i`, 'i.id', `l.${t.item}`)
    .select('l.id', 'l.contract_id', `l.${t.item} as item_id`, 'i.name as item_name', 'l.units', 'l.unit_price', 'l.unit_cost')
    .where('l.contract_id', contractId)
    .orderBy('l.id')) as ContractLineRow[];
}

export async function findContractLine(db: Db, kind: LineKind, contractId: string, itemId: string): Promise<ContractLineRow | undefined> {
  if (!/^\d+$/.test(itemId)) return undefined;
  const t = LINE[kind];
  return (await db(`${t.table} as l`)
    .join(`${t.catalogue} as i`, 'i.id', `l.${t.item}`)
    .select('l.id', 'l.contract_id', `l.${t.item} as item_id`, 'i.name as item_name', 'l.units', 'l.unit_price', 'l.unit_cost')
    .where('l.contract_id', contractId)
    .where(`l.${t.item}`, itemId)
    .first()) as ContractLineRow | undefined;
}

/** Every adjustment of every line of the contract (or of one line), oldest first. */
export async function listLineAdjustments(db: Db, kind: LineKind, contractId: string, lineId?: string): Promise<LineAdjustmentRow[]> {
  const t = LINE[kind];
  const q = db(`${t.adjustments} as a`)
    .join(`${t.table} as l`, 'l.id', `a.${t.adjustmentFk}`)
    .select('a.id', `a.${t.adjustmentFk} as line_id`, `l.${t.item} as item_id`, 'a.effective_date', 'a.units', 'a.unit_price', 'a.created_at')
    .where('l.contract_id', contractId)
    .orderBy([{ column: 'a.effective_date' }, { column: 'a.id' }]);
  if (lineId) q.where('l.id', lineId);
  return (await q) as LineAdjustmentRow[];
}

/** Catalogue prices of services or bundles by id, for lines created without a price. */
export async function findCatalogueItems(
  db: Db,
  kind: LineKind,
  ids: string[],
): Promise<Map<string, { name: string; unit_price: Money; unit_cost: Money | null }>> {
  const numeric = ids.filter((i) => /^\d+$/.test(i));
  if (numeric.length === 0) return new Map();
  const rows = (await db(LINE[kind].catalogue).select('id', 'name', 'unit_price', 'unit_cost').whereIn('id', numeric)) as Array<{
    id: string;
    name: string;
    unit_price: Money;
    unit_cost: Money | null;
  }>;
  return new Map(rows.map((r) => [String(r.id), r]));
}

export interface NewLine {
  itemId: string;
  units: Money;
  unitPrice: Money;
  unitCost: Money | null;
}

/** Adds lines to a contract in one statement (no query per line). */
export async function insertContractLines(db: Db, kind: LineKind, contractId: string, lines: readonly NewLine[]): Promise<void> {
  if (lines.length === 0) return;
  const t = LINE[kind];
  // One JSON parameter instead of one per value: a 10,000-line insert stays one statement.
  await db.raw(
    `INSERT INTO ?? (contract_id, ??, units, unit_price, unit_cost)
     SELECT ?, x.item_id, x.units, x.unit_price, x.unit_cost
     FROM ROWS FROM (jsonb_to_recordset(?::jsonb) AS (item_id bigint, units numeric, unit_price numeric, unit_cost numeric))
       WITH ORDINALITY AS x(item_id, units, unit_price, unit_cost, n)
     ORDER BY x.n`,
    [
      t.table,
      t.item,
      contractId,
      JSON.stringify(lines.map((l) => ({ item_id: l.itemId, units: l.units, unit_price: l.unitPrice, unit_cost: l.unitCost }))),
    ],
  );
}

export async function updateContractLine(
  db: Db,
  kind: LineKind,
  lineId: string,
  patch: { units?: Money; unit_price?: Money; unit_cost?: Money | null },
): Promise<void> {
  await db(LINE[kind].table).where('id', lineId).update(patch);
}

export async function deleteContractLine(db: Db, kind: LineKind, lineId: string): Promise<void> {
  await db(LINE[kind].table).where('id', lineId).delete();
}

export async function insertLineAdjustment(
  db: Db,
  kind: LineKind,
  lineId: string,
  a: { effectiveDate: IsoDate; units: Money | null; unitPrice: Money | null },
): Promise<LineAdjustmentRow> {
  const t = LINE[kind];
  const [row] = (await db(t.adjustments)
    .insert({ [t.adjustmentFk]: lineId, effective_date: a.effectiveDate, units: a.units, unit_price: a.unitPrice })
    .returning(['id', `${t.adjustmentFk} as line_id`, 'effective_date', 'units', 'unit_price', 'created_at'])) as Array<
    Omit<LineAdjustmentRow, 'item_id'>
  >;
  const line = (await db(t.table).select(`${t.item} as item_id`).where('id', lineId).first()) as { item_id: string };
  return { ...(row as Omit<LineAdjustmentRow, 'item_id'>), item_id: String(line.item_id) };
}
