import { z } from 'zod';
import { genericAlertSchema } from '../../../plugins/generic/schema';
import '../../openapi/extend-zod'; // .openapi() on the schemas below, whoever imports this first
import { instant } from '../../openapi/schemas';

/** The dry run's alert (app/rules/dry-run.ts `TestAlert`): the generic alert (SPEC §8) plus the source it would come from; occurredAt may be left to `at`. */
export const testAlertSchema = genericAlertSchema
  .extend({
    source: z.string().trim().min(1).max(63).optional().openapi({ description: "A configured source's name. Default: the first generic source, else \"generic\"." }),
    occurredAt: genericAlertSchema.shape.occurredAt.optional().openapi({ description: 'Default: `at`, else now.' }),
  })
  .openapi('RulesTestAlert');

const MAX_EDITOR_FILES = 200;
/** The rules editor's files: name → text (issue 17 item 2). Names and contents are judged by the validator, as problems. */
export const editorFilesSchema = z
  .record(z.string().max(200), z.string().max(2_000_000))
  .refine((f) => Object.keys(f).length <= MAX_EDITOR_FILES, { message: `at most ${MAX_EDITOR_FILES} files` })
  .openapi({ description: 'Rules files by name ("10-backup.json") → the file\'s text.', example: { '00-default.json': '{ "rules": [] }' } });

/** One finding of the validator, as the editor shows it. */
export const problemSchema = z
  .strictObject({
    file: z.string(),
    rule: z.string().nullable().openapi({ description: "The rule's name (or `rules[i]`), null for file-level findings." }),
    pointer: z.string().openapi({ description: 'RFC 6901 JSON pointer into the file.' }),
    line: z.number().int().nullable().openapi({ description: '1-based, from the pointer in the file text (a JSON syntax error: where parsing stopped); null when unknown.' }),
    column: z.number().int().nullable(),
    message: z.string(),
    severity: z.enum(['error', 'warning']),
  })
  .openapi('RuleProblem');

export const namedRefSchema = z.strictObject({ id: z.string(), name: z.string() });

export const versionSchema = z
  .strictObject({
    version: z.number().int(),
    contentHash: z.string(),
    createdAt: instant,
    createdBy: z.string(),
    message: z.string().nullable(),
    live: z.boolean().openapi({ description: 'The version this process decides with.' }),
  })
  .openapi('RulesetVersion');

export const versionDetailSchema = versionSchema
  .extend({ files: z.array(z.strictObject({ name: z.string(), content: z.string().openapi({ description: "The file's text." }) })) })
  .openapi('RulesetVersionDetail');
