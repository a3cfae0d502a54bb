import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN_SECRET, launchChromium, newContext, screenshot, signIn, startConsoleWorld, until, type ConsoleWorld } from '../helpers/browser';

// Issue 17 item 2: the rules editor in real chromium against a real hub (R-RUL-2, R-RUL-3, R-RUL-4).
jest.setTimeout(180_000);

let cw: ConsoleWorld;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
let original: string;

const FILE = '00-default.json';
/** The shipped file with one line changed (1-based line of the first match). */
function edited(from: string, to: string): { text: string; line: number } {
  const i = original.indexOf(from);
  if (i < 0) throw new Error(`${from} is not in ${FILE}`);
  return { text: original.slice(0, i) + to + original.slice(i + from.length), line: original.slice(0, i).split('\n').length };
}

/** Replaces the text of the "Rules file" editor: select all, then paste (typing would auto-indent). */
async function setEditor(text: string): Promise<void> {
  const editor = page.getByRole('textbox', { name: 'Rules file' });
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.evaluate(`(() => {
    const dt = new DataTransfer();
    dt.setData('text/plain', ${JSON.stringify(text)});
    document.querySelector('[aria-label="Rules file"]').dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  })()`);
}

beforeAll(async () => {
  cw = await startConsoleWorld();
  original = fs.readFileSync(path.join(cw.rulesDir, FILE), 'utf8');
  browser = await launchChromium();
  ctx = await newContext(browser, cw.hub.url);
  page = await ctx.newPage();
  await signIn(page, ADMIN_SECRET);
  await page.getByRole('link', { name: 'Rules', exact: true }).click();
  await page.getByRole('textbox', { name: 'Rules file' }).waitFor();
});

afterAll(async () => {
  await ctx?.close();
  await browser?.close();
  await cw?.close();
});

describe('rules editor', () => {
  it('Check: a broken rule is listed under Problems with file › rule › pointer and line:column, and marked in the editor (R-RUL-2)', async () => {
    const broken = edited('"operator": "equal", "value": "critical"', '"operator": "equalish", "value": "critical"');
    await setEditor(broken.text);
    await page.getByRole('button', { name: 'Check' }).click();
    const problems = page.getByRole('region', { name: 'Problems' });
    await problems.getByText(`line ${broken.line}:`).waitFor();
    const text = await problems.innerText();
    expect(text).toContain(`${FILE} › priority-critical › /rules/3/conditions/all/0/operator`);
    expect(text).toMatch(/equalish/);
    // Marked in the editor: an error range on that line and a marker in the lint gutter.
    await page.locator('.cm-lintRange-error').first().waitFor();
    expect(await page.locator('.cm-lint-marker-error').count()).toBeGreaterThan(0);
    await screenshot(page, '07-rules-problems');
    // The file on disk is untouched: Check makes nothing live.
    expect(fs.readFileSync(path.join(cw.rulesDir, FILE), 'utf8')).toBe(original);
    await setEditor(original);
  });

  it("Dry run: the mail server's stored alert gets its premium contract and SLA by name (R-RUL-4)", async () => {
    await page.getByLabel('Recent alert').selectOption({ label: await page.getByLabel('Recent alert').locator('option', { hasText: 'Disk full on mail01' }).innerText() });
    await until(async () => (await page.getByRole('textbox', { name: 'Test alert' }).innerText()).includes('mail01'), true, 'test alert filled from the picker');
    await page.getByRole('button', { name: 'Dry run' }).click();
    const decision = page.getByRole('region', { name: 'Decision' });
    await decision.getByText('Premium 24x7').first().waitFor();
    const text = await decision.innerText();
    // Its ticket is open, so the alert would count on it (R-ALR-4).
    expect(text).toMatch(/Outcome\s+occurrence/);
    expect(text).toMatch(/Contract\s+Mail server contract/);
    expect(text).toMatch(/Service\s+Mail server management/);
    expect(text).toMatch(/SLA\s+Premium 24x7/);
    expect(text).toMatch(/Priority\s+critical/);
    expect(text).toMatch(/First response due\s+\d/);
    // The trace: which rules fired and which failed on which condition.
    const trace = page.getByRole('table', { name: 'Trace' });
    expect(await trace.getByRole('row', { name: /device-contract.*fired/ }).count()).toBe(1);
    expect(await trace.getByRole('row').filter({ hasText: 'default-service-desk-contract' }).innerText()).toMatch(/failed on deviceContract is empty/);
    await page.getByRole('heading', { name: 'Dry run' }).scrollIntoViewIfNeeded();
    await screenshot(page, '08-rules-dry-run', { keepScroll: true });
  });

  it('Dry run runs the edited candidate, not only the live rules', async () => {
    await setEditor(edited('"params": { "priority": "critical" }', '"params": { "priority": "low" }').text);
    await page.getByRole('button', { name: 'Dry run' }).click();
    await until(() => page.getByRole('region', { name: 'Decision' }).innerText().then((t) => /Priority\s+low/.test(t)), true, 'priority from the candidate');
    await setEditor(original);
  });

  it('Replay: an edit of one rule\'s priority lists exactly the alerts it changes, with counts by field', async () => {
    await setEditor(edited('"params": { "priority": "medium" }', '"params": { "priority": "low" }').text);
    await page.getByRole('button', { name: 'Replay' }).click();
    const diff = page.getByRole('table', { name: 'Replay diff' });
    await diff.waitFor({ timeout: 60_000 });
    const rows = diff.locator('tbody tr');
    await screenshot(page, '09-rules-replay', { keepScroll: true });
    await until(() => rows.count(), 2, 'changed alerts');
    const text = await diff.innerText();
    expect(text).toContain('Toner black below 5%');
    expect(text).toContain('Nightly backup failed');
    expect(text).not.toContain('Disk full on mail01');
    expect(text).toMatch(/priority\s+medium → low/);
    expect(await page.getByRole('status').filter({ hasText: 'Replay finished' }).count()).toBe(1);
    expect(await page.getByLabel('Changes by field').innerText()).toMatch(/2 of 3 alerts change[\s\S]*priority: 2/);
    await page.getByRole('heading', { name: 'Replay' }).scrollIntoViewIfNeeded();
    await screenshot(page, '09-rules-replay', { keepScroll: true });
  });

  it('Save makes the candidate live as a new version; History shows the diff; Roll back restores version 1 (R-RUL-3)', async () => {
    const candidate = edited('"params": { "priority": "medium" }', '"params": { "priority": "low" }').text;
    await setEditor(candidate);
    await page.getByLabel('Message').fill('medium alerts are low for now');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved: version 2 is live.' }).waitFor();
    expect(fs.readFileSync(path.join(cw.rulesDir, FILE), 'utf8')).toBe(candidate); // written into RULES_DIR as saved
    const versions = page.getByRole('table', { name: 'Versions' });
    await versions.getByText('medium alerts are low for now').waitFor();
    // The diff between version 1 and 2 shows the changed line on both sides.
    const diff = page.getByRole('region', { name: 'Version diff' });
    await diff.locator('.cm-changedLine').first().waitFor();
    expect(await diff.innerText()).toContain(FILE);
    await page.getByRole('heading', { name: 'History' }).scrollIntoViewIfNeeded();
    await screenshot(page, '11-rules-history', { keepScroll: true });

    await versions.getByRole('button', { name: 'Roll back to version 1' }).click();
    await page.getByRole('status').filter({ hasText: 'Rolled back' }).waitFor();
    await until(() => Promise.resolve(fs.readFileSync(path.join(cw.rulesDir, FILE), 'utf8') === original), true, 'version 1 back on disk');
    const live = (await cw.hub.t.db('rulesets').orderBy('version', 'desc').first('version', 'message')) as { version: number };
    expect(live.version).toBe(3); // the rollback is a new version with version 1's content
  });

  it('a viewer token is not offered Save (nor Check, Dry run, Replay or Roll back)', async () => {
    const res = await fetch(`${cw.hub.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_SECRET}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'rules-viewer', role: 'viewer' }),
    });
    const { token } = (await res.json()) as { token: string };
    const viewer = await newContext(browser, cw.hub.url);
    const vp = await viewer.newPage();
    await signIn(vp, token);
    await vp.getByRole('link', { name: 'Rules', exact: true }).click();
    await vp.getByRole('textbox', { name: 'Rules file' }).waitFor();
    await vp.getByRole('table', { name: 'Versions' }).waitFor();
    for (const name of ['Save', 'Check', 'Dry run', 'Replay']) expect(await vp.getByRole('button', { name, exact: true }).count()).toBe(0);
    expect(await vp.getByRole('button', { name: /Roll back/ }).count()).toBe(0);
    await viewer.close();
  });
});
