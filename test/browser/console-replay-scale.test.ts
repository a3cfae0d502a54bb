import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  ADMIN_SECRET,
  launchChromium,
  newContext,
  screenshot,
  signIn,
  startConsoleWorld,
  until,
  type ConsoleWorld,
} from '../helpers/browser';

// Issue 17 item 2: "a period with tens of thousands of alerts stays responsive (progress shown,
// paged results)" — the console's Replay over ~20,000 stored alerts in real chromium.
jest.setTimeout(600_000);

const BULK = 20_000;
const FILE = '00-default.json';

let cw: ConsoleWorld;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;

beforeAll(async () => {
  cw = await startConsoleWorld();
  // 20,000 copies of the printer's stored alert (medium severity), made by the database in one
  // statement: each its own source alert id and dedup key, stored in the replay's period.
  const db = cw.hub.t.db;
  const printer = (await db('alerts').where({ title: 'Toner black below 5%' }).first('id')) as { id: string };
  const cols = (
    (await db('information_schema.columns')
      .where({ table_name: 'alerts', table_schema: db.raw('current_schema()') })
      .pluck('column_name')) as string[]
  ).filter((c) => c !== 'id');
  const pick = (c: string) =>
    c === 'source_alert_id'
      ? `a.source_alert_id || '-bulk-' || g`
      : c === 'dedup_key'
        ? `a.dedup_key || '-bulk-' || g`
        : `a.${c}`;
  await db.raw(
    `INSERT INTO alerts (${cols.join(', ')}) SELECT ${cols.map(pick).join(', ')} FROM alerts a, generate_series(1, ${BULK}) g WHERE a.id = ?`,
    [printer.id],
  );
  browser = await launchChromium();
  ctx = await newContext(browser, cw.hub.url);
  page = await ctx.newPage();
  await signIn(page, ADMIN_SECRET);
  await page.getByRole('link', { name: 'Rules', exact: true }).click();
  await page.getByRole('textbox', { name: 'Rules file' }).waitFor();
}, 300_000);

afterAll(async () => {
  await ctx?.close();
  await browser?.close();
  await cw?.close();
});

/** Replaces the text of the "Rules file" editor by a paste (typing would auto-indent). */
async function setEditor(text: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Rules file' }).click();
  await page.keyboard.press('Control+A');
  await page.evaluate(`(() => {
    const dt = new DataTransfer();
    dt.setData('text/plain', ${JSON.stringify(text)});
    document.querySelector('[aria-label="Rules file"]').dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  })()`);
}

describe('Replay over ~20,000 stored alerts', () => {
  it('shows progress while it runs, then a paged diff: one page of rows rendered, the rest a page away', async () => {
    const original = fs.readFileSync(path.join(cw.rulesDir, FILE), 'utf8');
    const from = '"params": { "priority": "medium" }';
    expect(original).toContain(from);
    await setEditor(original.replace(from, '"params": { "priority": "low" }'));
    await page.getByRole('button', { name: 'Replay' }).click();

    // Progress is shown while the job runs (a progress bar and "n / total alerts"), not a frozen page.
    const progress = page.getByRole('progressbar', { name: 'Replay progress' });
    await progress.waitFor({ timeout: 60_000 });
    const status = page.getByRole('status').filter({ hasText: /Replay/ });
    const total = BULK + 3;
    // Watch the status while the job runs: it must say "Replaying…" with a count of the period's
    // alerts done so far, below the total, before it says "Replay finished".
    const partial: number[] = [];
    const deadline = Date.now() + 480_000;
    for (;;) {
      const text = await status.innerText();
      const m = /Replaying…[\s\S]*?(\d+) \/ (\d+) alerts/.exec(text);
      if (m && Number(m[2]) === total && Number(m[1]) < total) partial.push(Number(m[1]));
      if (text.includes('Replay finished') || text.includes('Replay failed') || Date.now() > deadline) break;
      await page.waitForTimeout(100);
    }
    expect(await status.innerText()).toContain(`Replay finished`);
    expect(await status.innerText()).toContain(`${total} / ${total} alerts`);
    expect(partial.length).toBeGreaterThan(0);

    const diff = page.getByRole('table', { name: 'Replay diff' });
    await diff.waitFor({ timeout: 480_000 });
    expect(await page.getByRole('status').filter({ hasText: 'Replay finished' }).count()).toBe(1);
    // Every copy of the printer's alert (and the two original medium alerts) changes priority.
    const changed = BULK + 2;
    expect(await page.getByLabel('Changes by field').innerText()).toMatch(
      new RegExp(`${changed} of ${total} alerts change[\\s\\S]*priority: ${changed}`),
    );
    // Paged: one page of rows in the DOM, never all of them.
    const rows = await diff.locator('tbody tr').count();
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThanOrEqual(50);
    const pager = page.locator('.replay .pager');
    expect(await pager.innerText()).toContain(`1–20 of ${changed}`);
    await page.getByRole('heading', { name: 'Replay' }).scrollIntoViewIfNeeded();
    await screenshot(page, '15-rules-replay-20k', { keepScroll: true });

    await pager.getByRole('button', { name: 'Next page' }).click();
    await until(async () => (await pager.innerText()).includes(`21–40 of ${changed}`), true, 'the second page');
    expect(await diff.locator('tbody tr').count()).toBeLessThanOrEqual(50);
    await setEditor(original);
  });
});
