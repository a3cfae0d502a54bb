import { z } from 'zod';
import { genericAlertSchema } from '../../../plugins/generic/schema';
import '../../openapi/extend-zod'; // .openapi() on the schemas below, whoever imports this first

/** The dry run's alert (app/rules/dry-run.ts `TestAlert`): the generic alert (SPEC §8) plus the source it would come from; occurredAt may be left to `at`. */
export const testAlertSchema = genericAlertSchema
  .extend({
    source: z.string().trim().min(1).max(63).optional().openapi({ description: "A configured source's name. Default: the first generic source, else \"generic\"." }),
    occurredAt: genericAlertSchema.shape.occurredAt.optional().openapi({ description: 'Default: `at`, else now.' }),
  })
  .openapi('RulesTestAlert');
