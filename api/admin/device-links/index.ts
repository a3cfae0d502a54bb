import { Router } from 'express';
import { z } from 'zod';
import { notFound } from '../../../core/errors';
import { endDeviceContract, setDeviceContract } from '../../../app/devices/device-links';
import { findDevice, listDeviceLinks } from '../../../db/queries/device-links';
import type { AppDeps } from '../../context';
import { actorOf, scopeOf } from '../../context';
import { idString, parseId } from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { deviceContractBody, endLinkQuery } from '../contracts/schemas';
import { deviceLinkOut, deviceLinkSchema } from '../contracts/serialize';
import { todayFor } from '../contracts/today';

const MOUNT = '/devices';
const TAGS = ['devices', 'contracts'];

const linkChangeSchema = z.strictObject({
  link: deviceLinkSchema.nullable(),
  links: z.array(deviceLinkSchema),
  changed: z.boolean().openapi({ description: 'False when the device already had exactly this link.' }),
});

/**
 * Linking devices to contracts by hand (R-LINK-1, R-LINK-8): dated links, history kept, never
 * overlapping. Mounted at /devices beside the device CRUD router; handles only /:id/contract and
 * /:id/links.
 */
export function deviceLinksRouter(deps: AppDeps): Router {
  const router = Router();
  const ctx = (req: Parameters<typeof actorOf>[0]) => ({
    scope: scopeOf(req),
    actor: actorOf(req),
    requestId: req.requestId ?? null,
    today: todayFor(deps),
  });

  defineRoute(
    router,
    MOUNT,
    {
      method: 'put',
      path: '/:id/contract',
      summary: 'Link the device to a contract (and service) from a date (default today); the current link ends the day before',
      tags: TAGS,
      role: 'admin',
      body: deviceContractBody,
      response: linkChangeSchema,
    },
    async ({ params, body, req }) => {
      const deviceId = parseId(params.id, 'device');
      const r = await setDeviceContract(
        deps.db,
        {
          deviceId,
          contractId: idString(body.contractId),
          serviceId: body.serviceId == null ? null : idString(body.serviceId),
          from: body.from,
          to: body.to,
        },
        ctx(req),
      );
      return { body: { link: r.link ? deviceLinkOut(r.link) : null, links: r.links.map(deviceLinkOut), changed: r.changed } };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'delete',
      path: '/:id/contract',
      summary: 'End the device’s contract link: no contract from `from` (default today) on',
      tags: TAGS,
      role: 'admin',
      query: endLinkQuery,
      response: linkChangeSchema,
    },
    async ({ params, query, req }) => {
      const deviceId = parseId(params.id, 'device');
      const r = await endDeviceContract(deps.db, { deviceId, from: query.from }, ctx(req));
      return { body: { link: null, links: r.links.map(deviceLinkOut), changed: r.changed } };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '/:id/links',
      summary: 'Every contract link of the device: past, current and scheduled, oldest first',
      tags: TAGS,
      role: 'viewer',
      response: z.strictObject({ deviceId: z.string(), items: z.array(deviceLinkSchema) }),
    },
    async ({ params, req }) => {
      const deviceId = parseId(params.id, 'device');
      const device = await findDevice(deps.db, deviceId, scopeOf(req));
      if (!device) throw notFound('device', deviceId);
      return { body: { deviceId, items: (await listDeviceLinks(deps.db, deviceId)).map(deviceLinkOut) } };
    },
  );

  return router;
}
