import express, { Router } from 'express';
import { z } from 'zod';
import { HubError } from '../../../core/errors';
import { DEVICE_CSV_COLUMNS } from '../../../core/imports/device-csv';
import { importDevices, type DeviceImportReport } from '../../../app/devices/import-devices';
import { actorOf, scopeOf, type AppDeps } from '../../context';
import { queryBoolean } from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { todayFor } from '../contracts/today';

/** Mounted at this prefix under /api/v1 (other modules own the rest of /devices). */
export const IMPORT_MOUNT = '/devices/import';

/** An RMM export of 100,000 devices is ~10 MB; the cap leaves room and still bounds memory. */
export const MAX_IMPORT_BYTES = 50 * 1024 * 1024;

const rowErrorSchema = z.strictObject({ line: z.number().int(), field: z.string(), message: z.string() });
export const importReportSchema = z
  .strictObject({
    dryRun: z.boolean(),
    skipInvalid: z.boolean(),
    applied: z.boolean().openapi({ description: 'True when the changes were committed.' }),
    rows: z.number().int(),
    valid: z.number().int(),
    invalid: z.number().int(),
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    linked: z.number().int().openapi({ description: "Contract links made (each from its row's linkFrom, else from today in the company's zone), recorded with origin import." }),
    linksUnchanged: z.number().int().openapi({ description: 'Rows whose device already has that link (a re-import changes nothing).' }),
    errorCount: z.number().int(),
    errors: z.array(rowErrorSchema).openapi({ description: 'By line (the header is line 1); at most 1000.' }),
    durationMs: z.number().int(),
  })
  .openapi('DeviceImportReport');

const csvBody = express.text({ type: ['text/csv', 'application/csv', 'text/plain'], limit: MAX_IMPORT_BYTES });

/**
 * `POST /api/v1/devices/import` (R-LINK-7/8): the body is the CSV itself (`Content-Type: text/csv`,
 * header `hostname,source,sourceDeviceId,site` and optionally `contract,service,linkFrom`): a row
 * naming a contract (code, name or id) links the device to it from `linkFrom`, else from today in
 * the company's zone (R-LINK-8), recorded with origin `import`. `dryRun=true` checks and writes
 * nothing; `skipInvalid=true` writes the valid rows. Without it any invalid row refuses the whole
 * file: 422 with the report (every error with its line) in `error.details`.
 */
export function importsRouter(deps: AppDeps): Router {
  const router = Router();
  router.post('', (req, res, next) => {
    if (!req.is(['text/csv', 'application/csv', 'text/plain'])) {
      return next(new HubError('UNSUPPORTED_MEDIA_TYPE', `body: send the CSV file with Content-Type: text/csv (columns ${DEVICE_CSV_COLUMNS.join(',')})`));
    }
    csvBody(req, res, next);
  });
  defineRoute(
    router,
    IMPORT_MOUNT,
    {
      method: 'post',
      path: '',
      summary: `Import devices from an RMM export (body: CSV with header ${DEVICE_CSV_COLUMNS.join(',')}; Content-Type: text/csv); a row naming a contract (code, name or id) links the device from linkFrom, else today in the company's zone (R-LINK-7/8)`,
      tags: ['devices'],
      role: 'admin',
      query: z.strictObject({
        dryRun: queryBoolean.optional().openapi({ description: 'Check every row, write nothing.' }),
        skipInvalid: queryBoolean.optional().openapi({ description: 'Write the valid rows, report the invalid ones (default: all or nothing).' }),
      }),
      response: importReportSchema,
    },
    async ({ query, req }) => {
      const text = typeof req.body === 'string' ? req.body : '';
      const report: DeviceImportReport = await importDevices(deps.db, text, {
        dryRun: query.dryRun === 'true',
        skipInvalid: query.skipInvalid === 'true',
        today: todayFor(deps),
        now: deps.services.clock?.() ?? new Date(),
        actor: actorOf(req),
        requestId: req.requestId ?? null,
        scope: scopeOf(req),
      });
      if (!report.dryRun && !report.applied) {
        const first = report.errors[0];
        throw new HubError(
          'UNPROCESSABLE',
          `${report.invalid} of ${report.rows} rows are invalid (first: line ${first?.line ?? '?'} ${first?.field ?? ''}: ${first?.message ?? ''}); nothing was imported. Fix them, or import with skipInvalid=true`,
          report,
        );
      }
      return { body: report };
    },
  );
  return router;
}
