import fs from 'node:fs';
import path from 'node:path';
import { expectedStorm, FULL_STORM, SMOKE_STORM, stormAlerts, stormRulesDir, type StormAlert } from '../../bench/storm.bench';
import { maxInWindow } from '../../bench/delivery.bench';

/**
 * The storm benchmark's input and its expected ticket count (bench/storm.bench.ts): the figures the
 * benchmark compares the hub against must themselves be right.
 */
const T0 = new Date('2026-12-07T00:00:00Z');

describe('storm benchmark input (issue 18 "Done when")', () => {
  it('the full storm is 100,000 alerts from 10,000 devices at 200 sites, 5 of them down (gateway + all devices)', () => {
    const { first, rest } = stormAlerts(FULL_STORM, T0);
    const all = [...first, ...rest];
    expect(all).toHaveLength(100_000);
    expect(new Set(all.map((a) => a.device.id)).size).toBe(10_000);
    expect(new Set(all.map((a) => a.device.site)).size).toBe(200);
    // The sources go first: one first occurrence per down site's gateway.
    expect(first).toHaveLength(5);
    expect(first.every((a) => a.category === 'network' && /gateway/i.test(a.title))).toBe(true);
    const downSites = new Set(first.map((a) => a.device.site));
    for (const site of downSites) {
      const atSite = all.filter((a) => a.device.site === site);
      expect(new Set(atSite.map((a) => a.device.id)).size).toBe(50);
      // Every device of a down site is down: its gateway alert or "offline", nothing else.
      expect(atSite.every((a) => a.category === 'offline' || a.category === 'network')).toBe(true);
    }
    // Each (alert id, occurredAt) once: a repeat is a new firing, never a duplicate delivery.
    expect(new Set(all.map((a) => `${a.alertId}|${a.occurredAt}`)).size).toBe(all.length);
  });

  it('the expectation follows from the shape: down sites make one ticket each, a failed switch 12 + 1 parent, every other device 2', () => {
    const all = (() => {
      const { first, rest } = stormAlerts(FULL_STORM, T0);
      return [...first, ...rest];
    })();
    const s = FULL_STORM;
    const devices = s.companies * s.sitesPerCompany * s.devicesPerSite;
    const normal = devices - s.downSites * s.devicesPerSite - s.switchSites * s.switchOffline;
    expect(expectedStorm(s, all)).toEqual({
      tickets: normal * 2 + s.downSites + s.switchSites * (s.switchOffline + 1),
      parents: s.switchSites,
      mutedAlerts: s.downSites * (s.devicesPerSite - 1) * 10,
    });
    const smoke = stormAlerts(SMOKE_STORM, T0);
    expect(expectedStorm(SMOKE_STORM, [...smoke.first, ...smoke.rest]).parents).toBe(1);
  });

  it('expectedStorm: a source mutes only targets of its own company and site, never itself; ten offline devices make no parent, eleven do', () => {
    const a = (alertId: string, category: string, site: string, title = `${alertId} offline`): StormAlert => ({
      alertId,
      state: 'firing',
      severity: 'high',
      category,
      title,
      device: { id: alertId, hostname: alertId, site },
      occurredAt: T0.toISOString(),
    });
    const shape = { ...SMOKE_STORM, sitesPerCompany: 2 };
    const alerts = [
      a('gw', 'network', 'storm-s0', 'WAN link down'),
      a('off-1', 'offline', 'storm-s0'),
      a('off-1', 'offline', 'storm-s0'),
      // Same company (sites 0 and 1 are company 0), another site: not muted.
      a('off-2', 'offline', 'storm-s1'),
      // A network alert that names no gateway is not a source.
      a('sw', 'network', 'storm-s2', 'Switch port flapping'),
      ...Array.from({ length: 10 }, (_, i) => a(`ten-${i}`, 'offline', 'storm-s2')),
      ...Array.from({ length: 11 }, (_, i) => a(`eleven-${i}`, 'offline', 'storm-s3')),
    ];
    // gw, off-2, sw, 10 + 11 offline = 24 tickets, + 1 parent (storm-s3).
    expect(expectedStorm(shape, alerts)).toEqual({ tickets: 25, parents: 1, mutedAlerts: 2 });
  });

  it('stormRulesDir switches the shipped storm examples on and leaves the shipped files alone', () => {
    const shipped = path.join(__dirname, '../../rules');
    const dir = stormRulesDir(shipped);
    try {
      const storms = JSON.parse(fs.readFileSync(path.join(dir, '10-storms.json'), 'utf8')) as { inhibit: Array<{ enabled: boolean }>; group: Array<{ enabled: boolean }> };
      expect(storms.inhibit.length).toBeGreaterThan(0);
      expect([...storms.inhibit, ...storms.group].every((r) => r.enabled)).toBe(true);
      const original = JSON.parse(fs.readFileSync(path.join(shipped, '10-storms.json'), 'utf8')) as { inhibit: Array<{ enabled: boolean }> };
      expect(original.inhibit[0]!.enabled).toBe(false);
      expect(fs.readdirSync(dir).sort()).toEqual(fs.readdirSync(shipped).filter((f) => f.endsWith('.json')).sort());
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('delivery benchmark: the most calls in any 60 s', () => {
  it('counts a sliding window, not fixed minutes', () => {
    expect(maxInWindow([], 60_000)).toBe(0);
    // 3 at the end of one minute and 3 at the start of the next: 6 within 60 s.
    expect(maxInWindow([55_000, 56_000, 59_000, 61_000, 62_000, 63_000, 200_000], 60_000)).toBe(6);
    expect(maxInWindow([0, 60_000, 120_000], 60_000)).toBe(1);
  });
});
