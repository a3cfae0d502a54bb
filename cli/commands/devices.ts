import { ALL_COMPANIES } from '../../core/access/company-scope';
import os from 'node:os';
import type { Command } from 'commander';
import type { Knex } from 'knex';
import { loadConfig } from '../../config/env';
import { assertIsoDate, todayIn } from '../../core/dates';
import { createDb } from '../../db/connection';
import { setDeviceContract } from '../../app/devices/device-links';
import { listDeviceLinks, type DeviceLinkView } from '../../db/queries/device-links';

export interface DeviceCliIo {
  openDb: () => Knex;
  now: () => Date;
  print: (line: string) => void;
  /** IANA zone "today" is counted in (HUB_RENEWAL_TIMEZONE). @defaultValue UTC */
  zone?: () => string;
}

const defaultIo: DeviceCliIo = {
  openDb: () => createDb(loadConfig().DATABASE_URL, 2),
  now: () => new Date(),
  print: (line) => console.log(line),
  zone: () => loadConfig().HUB_RENEWAL_TIMEZONE,
};

const table = (links: DeviceLinkView[]): string[] => [
  'from        to          contract (service)',
  ...links.map((l) => `${l.valid_from}  ${(l.valid_to ?? 'open').padEnd(10)}  ${l.contract_name} [${l.contract_id}]${l.service_name ? ` (${l.service_name})` : ''}`),
];

/**
 * R-LINK-8 by hand from the CLI: `hub devices link <device> <contract> [--service] [--from] [--to]`
 * (dated, history kept, never overlapping — the same code as PUT /api/v1/devices/:id/contract,
 * audited as cli:<user>) and `hub devices links <device>`.
 */
export function registerDeviceCommands(program: Command, io: DeviceCliIo = defaultIo): void {
  const devices = program.command('devices').description('devices: contract links (R-LINK-8)');
  devices
    .command('link')
    .description('link a device to a contract (and service) from a date; ends the current link the day before')
    .argument('<deviceId>')
    .argument('<contractId>')
    .option('--service <serviceId>', 'a service of the contract')
    .option('--from <YYYY-MM-DD>', 'first day of the link (default today, in HUB_RENEWAL_TIMEZONE)')
    .option('--to <YYYY-MM-DD>', 'last day of the link (default open-ended)')
    .action(async (deviceId: string, contractId: string, o: { service?: string; from?: string; to?: string }) => {
      if (o.from) assertIsoDate(o.from, '--from');
      if (o.to) assertIsoDate(o.to, '--to');
      const db = io.openDb();
      try {
        const zone = io.zone?.() ?? 'UTC';
        const result = await setDeviceContract(
          db,
          { deviceId, contractId, serviceId: o.service ?? null, ...(o.from ? { from: o.from } : {}), ...(o.to ? { to: o.to } : {}) },
          { scope: ALL_COMPANIES, actor: `cli:${os.userInfo().username}`, today: todayIn(zone, io.now()) },
        );
        io.print(result.changed ? `device ${deviceId} linked` : `device ${deviceId}: link unchanged`);
        for (const line of table(result.links)) io.print(line);
      } finally {
        await db.destroy();
      }
    });
  devices
    .command('links')
    .description("a device's contract links, oldest first")
    .argument('<deviceId>')
    .action(async (deviceId: string) => {
      const db = io.openDb();
      try {
        for (const line of table(await listDeviceLinks(db, deviceId))) io.print(line);
      } finally {
        await db.destroy();
      }
    });
}
