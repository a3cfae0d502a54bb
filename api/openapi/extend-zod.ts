import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

/**
 * zod 4 gives every schema its methods when it is created, so `.openapi()` exists only on schemas
 * created after this ran. Entry points (cli/hub.ts, cli/demo.ts, bench, jest setup) import this
 * module first.
 */
extendZodWithOpenApi(z);
