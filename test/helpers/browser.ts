/**
 * Browser tests (test/browser/): Debian's chromium driven by playwright-core against a real hub
 * (API + workers on a fresh database and queue prefix, test/helpers/hub.ts). Pages are selected by
 * role and accessible name, as a screen reader would. Screenshots (1280×800) go to docs/screenshots/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createSource, seedWorld, type World } from './seed';
import { startTestHub, waitFor, type TestHub } from './hub';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const SCREENSHOTS = path.resolve(__dirname, '../../docs/screenshots');
export const ADMIN_SECRET = 'test-admin-token-0123456789abcdef';
export const SOURCE_TOKEN = 'console-source-token-0123456789';

export function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: apt-get install -y chromium (.ci/run installs it)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export async function newContext(browser: Browser, baseURL: string): Promise<BrowserContext> {
  const ctx = await browser.newContext({ baseURL, viewport: { width: 1280, height: 800 }, locale: 'en-GB', timezoneId: 'UTC' });
  ctx.setDefaultTimeout(20_000);
  return ctx;
}

/** Signs in through the form, as a user does. */
export async function signIn(page: Page, token: string): Promise<void> {
  await page.goto('/console');
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** A 1280×800 screenshot of the page from its top (or where it is scrolled to, with `keepScroll`). */
export async function screenshot(page: Page, name: string, opts: { keepScroll?: boolean } = {}): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  if (!opts.keepScroll) await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

export interface ConsoleWorld {
  hub: TestHub;
  world: World;
  /** Ticket ids of the alerts posted at start. */
  tickets: { mail: string; printer: string; triage: string };
  /** The hub's RULES_DIR (a temporary copy of rules/). */
  rulesDir: string;
  close(): Promise<void>;
}

/**
 * A hub with the seed's world (mail server on Premium 24x7, printer on the office-hours SLA, the
 * default service-desk contract) and three alerts decided by the live rules: the mail server's,
 * the printer's, and one from an unknown site (a ticket marked for triage).
 */
export async function startConsoleWorld(env: Record<string, string> = {}): Promise<ConsoleWorld> {
  // Saving rules writes into RULES_DIR: a copy of the shipped rules, never the repository's own.
  const rulesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'console-rules-'));
  const shipped = path.resolve(__dirname, '../../rules');
  for (const f of fs.readdirSync(shipped).filter((n) => n.endsWith('.json'))) fs.copyFileSync(path.join(shipped, f), path.join(rulesDir, f));
  const hub = await startTestHub({ env: { HUB_ADMIN_TOKEN: ADMIN_SECRET, RULES_DIR: rulesDir, ...env } });
  const world = await seedWorld(hub.t.db, { source: 'rmm', site: 'acme-hq', year: new Date().getUTCFullYear() });
  await createSource(hub.t.db, process.env.HUB_SECRET_KEY ?? '', { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: SOURCE_TOKEN } });
  const now = Date.now();
  const post = async (alertId: string, severity: string, title: string, hostname: string, site: string, minutesAgo: number) => {
    const res = await fetch(`${hub.url}/hooks/rmm`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SOURCE_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ alertId, state: 'firing', severity, category: 'monitoring', title, message: title, device: { id: hostname, hostname, site }, occurredAt: new Date(now - minutesAgo * 60_000).toISOString() }),
    });
    if (res.status !== 202) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
    const { alertIds } = (await res.json()) as { alertIds: string[] };
    return waitFor(async () => {
      const row = (await hub.t.db('alerts').where('id', alertIds[0]).first('ticket_id')) as { ticket_id: string | null } | undefined;
      return row?.ticket_id ? String(row.ticket_id) : null;
    }, 30_000, `ticket of ${alertId}`);
  };
  const mail = await post('mail-disk', 'critical', 'Disk full on mail01', 'mail01', 'acme-hq', 30);
  const printer = await post('printer-toner', 'medium', 'Toner black below 5%', 'printer-3og', 'acme-hq', 20);
  const triage = await post('nas-backup', 'medium', 'Nightly backup failed', 'nas-unknown', 'unknown-site', 10);
  return {
    hub,
    world,
    tickets: { mail, printer, triage },
    rulesDir,
    async close() {
      await hub.close();
      fs.rmSync(rulesDir, { recursive: true, force: true });
    },
  };
}

/** Polls `read` until it equals `want` (the page updates asynchronously after each server answer). */
export async function until<T>(read: () => Promise<T>, want: T, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (JSON.stringify(last) === JSON.stringify(want)) return;
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(last)}, expected ${JSON.stringify(want)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The console token of the page's tab (sessionStorage), or null. */
export const storedToken = (page: Page): Promise<string | null> => page.evaluate('sessionStorage.getItem("hub.console.token")') as Promise<string | null>;
