import fc from 'fast-check';
import request from 'supertest';
import { issueToken } from '../../../app/tokens';
import { ALL_COMPANIES, onlyCompanies, type CompanyScope } from '../../../core/access/company-scope';
import type { Role } from '../../../db/tables';
import { createTestApp, type TestApp } from '../../helpers/app';
import { bodyArbitrary, tableState, stateChanges, type JsonSchema, type OpenApiDoc } from '../../helpers/fuzz';
import { insertRow } from '../../helpers/seed';
import { client, createCompany } from './admin-helpers';

/**
 * Issue 13, "Done when": a property-based authorization test. Random tokens (role × company scope:
 * all, one, two, only a deleted company, a deleted one plus another) against random data of
 * several companies, on every route of the OpenAPI document as served by `GET /api/v1/openapi.json`
 * — read at test time, so a route added later is covered without editing this file:
 *
 * - every GET answers only what the token may see: 403 below its role; 404/403 for an object of a
 *   company outside its scope (or of no company, for a scoped token); a 2xx body never contains
 *   another company's data (each company's rows carry a marker string, `zq<key>zq`, in their
 *   texts) nor a `companyId` outside the scope; and an object inside the scope is visible (200).
 * - every write (POST/PUT/PATCH/DELETE) outside the token's role or scope is refused (403 below
 *   the role; 400/403/404 otherwise) and changes no row of any table.
 *
 * A path parameter the generator cannot fill fails the test (see PARAMS) instead of being skipped.
 * FUZZ_SEED replays a run (fast-check prints the seed and the counterexample of a failure);
 * FUZZ_RUNS scales the number of runs.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20261213);
const RUN_FACTOR = Math.max(0.2, Number(process.env.FUZZ_RUNS ?? '1') || 1);
const runs = (n: number) => ({ numRuns: Math.max(1, Math.round(n * RUN_FACTOR)), seed: SEED });

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };
const ROLES: Role[] = ['viewer', 'operator', 'admin'];
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
const METHODS: Method[] = ['get', 'post', 'put', 'patch', 'delete'];

/** Companies with data (A, B, C), the one deleted after its tokens were made (D), and "no company" (NONE: triage). */
const LIVE = ['A', 'B', 'C'] as const;
type Owner = (typeof LIVE)[number] | 'NONE';
const OWNERS: Owner[] = [...LIVE, 'NONE'];
const marker = (o: Owner | 'D'): string => `zq${o}zq`;

type ScopeKind = 'all' | 'one' | 'two' | 'deleted' | 'deletedAndOne';
const SCOPE_KINDS: ScopeKind[] = ['all', 'one', 'two', 'deleted', 'deletedAndOne'];
/** Which owners each scope kind may see ('D' is gone; NONE only for every-company tokens). */
const VISIBLE: Record<ScopeKind, ReadonlySet<Owner>> = {
  all: new Set(OWNERS),
  one: new Set(['A']),
  two: new Set(['A', 'B']),
  deleted: new Set(),
  deletedAndOne: new Set(['C']),
};

/** Whose markers a token of `kind` must never be shown: the owners outside it, and the deleted D's history unless it sees every company (the audit log keeps D's rows). */
const foreignOwners = (kind: ScopeKind): Array<Owner | 'D'> => [...OWNERS.filter((o) => !VISIBLE[kind].has(o)), ...(kind === 'all' ? [] : (['D'] as const))];

/** fast-check's report, cut to what names the failure: the counterexample and the error. */
const reportOf = (e: unknown): string => {
  const cause = (e as Error).cause;
  const lines = String((e as Error).message)
    .split('\n')
    .filter((l) => /Counterexample|Got error|→/.test(l))
    .slice(0, 3);
  return [...lines, ...(cause instanceof Error ? [cause.message] : [])].join(' | ');
};

/**
 * Routes not exercised, each with its reason. Keep this short: an entry must say why the route
 * cannot carry company data or is covered elsewhere.
 */
const NOT_EXERCISED: Record<string, string> = {
  // These act on BullMQ jobs, and this test process runs no queues (they answer 503). Their scope
  // rule (issue 13 item 7: company-scoped tokens get 403, operators may not write through the
  // dashboard) is proven on real queues by test/integration/operator/dead-letters.test.ts.
  'GET /api/v1/queues': 'queues: issue 13 item 7',
  'GET /api/v1/queues/{name}/failed': 'queues: issue 13 item 7',
  'DELETE /api/v1/queues/{name}/jobs/{id}': 'queues: issue 13 item 7',
  'POST /api/v1/queues/{name}/jobs/{id}/retry': 'queues: issue 13 item 7',
  'POST /api/v1/dead-letters/{receiptId}/redrive': 'queues: issue 13 item 7 (re-drive enqueues a job)',
};

interface World {
  companyId: Record<Owner | 'D', string | null>;
  /** "resource/param" → the id of each owner's object (undefined: that owner has none). */
  owned: Record<string, Partial<Record<Owner, string>>>;
  /** "resource/param" → one global object (catalogue, SLA, source, token, rules window). */
  global: Record<string, string>;
  hostname: Partial<Record<Owner, string>>;
}

interface DocRoute {
  method: Method;
  path: string;
  label: string;
  role: Role;
  /** Path parameters as "resource/param" keys (the segment before the parameter). */
  paramKeys: string[];
  queryParams: string[];
  bodySchema: JsonSchema | undefined;
}

function routesOf(doc: OpenApiDoc): DocRoute[] {
  const out: DocRoute[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item?.[method] as
        | { security?: unknown[]; description?: string; parameters?: Array<{ in: string; name: string }>; requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }
        | undefined;
      // The bearer-token API: every operation the document marks with bearer security.
      if (!op || !Array.isArray(op.security) || op.security.length === 0) continue;
      const segments = path.split('/');
      const paramKeys = segments.flatMap((s, i) => (/^\{.+\}$/.test(s) ? [`${segments[i - 1] ?? ''}/${s.slice(1, -1)}`] : []));
      const documented = /Requires role: (admin|operator|viewer)/.exec(op.description ?? '')?.[1] as Role | undefined;
      out.push({
        method,
        path,
        label: `${method.toUpperCase()} ${path}`,
        role: documented ?? (method === 'get' ? 'viewer' : 'admin'),
        paramKeys,
        queryParams: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        bodySchema: op.requestBody?.content?.['application/json']?.schema,
      });
    }
  }
  return out;
}

/** Keys of a body whose values name a company-owned object: the write's target, set to the target's objects. */
const OWNED_BODY_KEYS: Record<string, string> = {
  companyId: 'companies/id',
  deviceId: 'devices/id',
  contractId: 'contracts/id',
  ticketId: 'tickets/id',
  hostname: 'hostname',
};

function retarget(value: unknown, world: World, owner: Owner): unknown {
  if (Array.isArray(value)) return value.map((v) => retarget(v, world, owner));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const key = OWNED_BODY_KEYS[k];
    if (key === 'hostname') out[k] = world.hostname[owner] ?? v;
    // An owner without such an object: a company of nobody (null) or an id that exists nowhere.
    else if (key !== undefined) out[k] = key === 'companies/id' ? (world.companyId[owner] ?? null) : (world.owned[key]?.[owner] ?? '999999999');
    else out[k] = retarget(v, world, owner);
  }
  return out;
}

/** Optional keys whose absence a cross-field check refuses (a window needs an end). */
const WANTED_OPTIONAL = ['endsAt'];

/** Values that pass the validators' cross-field checks, mixed into the schema's own (BodyHints). */
const PLAUSIBLE: Record<string, unknown> = {
  startsAt: '2020-01-01T00:00:00Z',
  endsAt: '2030-01-01T00:00:00Z',
  timezone: 'UTC',
  startDate: '2026-01-01',
  endDate: '2026-12-31',
  effectiveDate: '2026-06-01',
  workDate: '2026-02-02',
  chargeDate: '2026-02-02',
  units: 1,
  unitPrice: 10,
  amount: 5,
  hours: 1,
  priority: 'high',
  status: 'in_progress',
};
const hints = { byKey: (key: string) => (key in PLAUSIBLE ? fc.constant(PLAUSIBLE[key]) : undefined) };

/**
 * The body schema with $refs resolved, every owned key (companyId, deviceId, …) present so that
 * retarget() can aim it, and — with `requiredOnly` — nothing optional besides them: the bodies most
 * likely to pass validation, so that a refusal is the authorization's and not the validator's.
 */
function aimedSchema(schema: JsonSchema, doc: OpenApiDoc, requiredOnly: boolean, depth = 0): JsonSchema {
  if (depth > 10) return schema;
  if (schema.$ref !== undefined) {
    const target = doc.components?.schemas?.[schema.$ref.replace(/^#\/components\/schemas\//, '')] as JsonSchema | undefined;
    return target ? aimedSchema(target, doc, requiredOnly, depth + 1) : schema;
  }
  const out: JsonSchema = { ...schema };
  for (const k of ['anyOf', 'oneOf', 'allOf', 'prefixItems'] as const) {
    const list = schema[k];
    if (list) out[k] = list.map((x) => aimedSchema(x, doc, requiredOnly, depth + 1));
  }
  if (schema.items) out.items = aimedSchema(schema.items, doc, requiredOnly, depth + 1);
  if (schema.properties) {
    const wanted = Object.keys(schema.properties).filter((k) => OWNED_BODY_KEYS[k] !== undefined || WANTED_OPTIONAL.includes(k));
    const required = [...new Set([...(schema.required ?? []), ...wanted])];
    const keep = requiredOnly ? required : Object.keys(schema.properties);
    out.properties = Object.fromEntries(keep.map((k) => [k, aimedSchema(schema.properties?.[k] ?? {}, doc, requiredOnly, depth + 1)]));
    out.required = required;
  }
  return out;
}

function scopeFor(kind: ScopeKind, c: World['companyId']): CompanyScope {
  const ids = (keys: Array<Owner | 'D'>) => onlyCompanies(keys.map((k) => c[k] ?? ''));
  return kind === 'all' ? ALL_COMPANIES : kind === 'one' ? ids(['A']) : kind === 'two' ? ids(['A', 'B']) : kind === 'deleted' ? ids(['D']) : ids(['D', 'C']);
}

/** Every value of a key named companyId anywhere in a JSON body. */
function companyIdsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) companyIdsIn(v, out);
  else if (typeof value === 'object' && value !== null)
    for (const [k, v] of Object.entries(value)) {
      if (k === 'companyId' && (typeof v === 'string' || typeof v === 'number')) out.push(String(v));
      else companyIdsIn(v, out);
    }
  return out;
}

describe('authorization, property-based over the OpenAPI route list (issue 13)', () => {
  let t: TestApp;
  let doc: OpenApiDoc;
  let routes: DocRoute[];
  let world: World;
  const tokens = new Map<string, string>();
  const tokenKey = (role: Role, kind: ScopeKind) => `${role}:${kind}`;

  beforeAll(async () => {
    t = await createTestApp();
    const api = client(t);
    const res = await request(t.app).get('/api/v1/openapi.json').set('Authorization', t.admin);
    expect(res.status).toBe(200);
    doc = res.body as OpenApiDoc;
    routes = routesOf(doc);

    // Global objects: the catalogue, an SLA, a source.
    const service = await insertRow(t.db, 'services', { name: 'Monitoring', unit_price: '10' });
    const bundle = await insertRow(t.db, 'service_bundles', { name: 'Bundle', unit_price: '20' });
    const sla = await insertRow(t.db, 'slas', { name: 'Standard', timezone: 'UTC', is_24x7: true });
    const source = await insertRow(t.db, 'sources', { name: 'rmm', plugin: 'generic', config: '{}', auth_type: 'token', auth_settings: '{}', auth_secrets_enc: 'x' });

    const companyId: World['companyId'] = { A: null, B: null, C: null, D: null, NONE: null };
    const owned: World['owned'] = {};
    const own = (key: string, owner: Owner, id: string | number) => {
      owned[key] = { ...owned[key], [owner]: String(id) };
    };
    const hostname: World['hostname'] = {};
    const now = new Date();
    const delivery = async () => insertRow(t.db, 'deliveries', { source_id: source.id, body_sha256: 'x', body_bytes: 2 });

    for (const o of OWNERS) {
      const m = marker(o);
      const cid = o === 'NONE' ? null : await createCompany(api, `Company ${m}`);
      companyId[o] = cid;
      if (cid) own('companies/id', o, cid);
      // Through the API where it is cheap, so the audit log holds each company's rows too.
      const device =
        cid === null
          ? await insertRow(t.db, 'devices', { company_id: null, hostname: `${m}-discovered`, discovered: true })
          : ((await api.post('/devices', { companyId: cid, hostname: `${m}-srv` })).body as { id: string });
      own('devices/id', o, device.id);
      hostname[o] = cid === null ? `${m}-discovered` : `${m}-srv`;
      let contractId: string | null = null;
      if (cid !== null) {
        const contract = await insertRow(t.db, 'contracts', { company_id: cid, name: `${m} contract`, type: 'recurring_service', period_type: 'monthly', start_date: '2026-01-01', end_date: '2026-12-31' });
        contractId = String(contract.id);
        own('contracts/id', o, contract.id);
        const line = await insertRow(t.db, 'contract_services', { contract_id: contract.id, service_id: service.id, units: '2', unit_price: '10' });
        await insertRow(t.db, 'contract_service_adjustments', { contract_service_id: line.id, effective_date: '2026-03-01', unit_price: '12' });
        const bline = await insertRow(t.db, 'contract_bundles', { contract_id: contract.id, bundle_id: bundle.id, units: '1', unit_price: '20' });
        await insertRow(t.db, 'contract_bundle_adjustments', { contract_bundle_id: bline.id, effective_date: '2026-03-01', units: '3' });
        own('services/serviceId', o, service.id);
        own('service-bundles/bundleId', o, bundle.id);
        own('billing-rules/ruleId', o, (await insertRow(t.db, 'billing_rules', { contract_id: contract.id, name: `${m} rule`, start_date: '2026-01-01' })).id);
        own('charges/chargeId', o, (await insertRow(t.db, 'contract_charges', { contract_id: contract.id, charge_date: '2026-02-01', description: `${m} charge`, amount: '5' })).id);
        own('service-mappings/mappingId', o, (await insertRow(t.db, 'service_mappings', { contract_id: contract.id, module_billing_type: `${m} billing type`, service_id: service.id })).id);
        await insertRow(t.db, 'contract_notes', { contract_id: contract.id, body: `${m} note` });
        await insertRow(t.db, 'device_contract_links', { device_id: device.id, contract_id: contract.id, service_id: service.id, valid_from: '2026-01-01' });
        await insertRow(t.db, 'projects', { company_id: cid, name: `${m} project` });
      }
      const ticket = await insertRow(t.db, 'tickets', {
        company_id: cid,
        device_id: device.id,
        contract_id: contractId,
        source: 'rmm',
        dedup_key: `${m}-dedup`,
        priority: 'high',
        title: `${m} ticket`,
        first_occurred_at: now,
        last_occurred_at: now,
      });
      own('tickets/id', o, ticket.id);
      await insertRow(t.db, 'time_entries', { ticket_id: ticket.id, contract_id: contractId, work_date: '2026-02-02', hours: '1.5', description: `${m} work` });
      const d = await delivery();
      const alert = await insertRow(t.db, 'alerts', {
        source_id: source.id,
        source_alert_id: `${m}-alert`,
        dedup_key: `${m}-dedup`,
        state: 'firing',
        severity: 'high',
        title: `${m} alert`,
        hostname: hostname[o],
        occurred_at: now,
        raw: JSON.stringify({ title: `${m} alert` }),
        first_delivery_id: d.id,
        status: 'processed',
        ticket_id: ticket.id,
      });
      own('alerts/id', o, alert.id);
      own('maintenance-windows/id', o, (await insertRow(t.db, 'maintenance_windows', { company_id: cid, name: `${m} window` })).id);
    }

    const global: World['global'] = {
      'services/id': String(service.id),
      'service-bundles/id': String(bundle.id),
      'slas/id': String(sla.id),
      'sources/id': String(source.id),
      // A rules-file window: global configuration (none is live in this process).
      'rules/name': 'nightly-patching',
      // A recorded ruleset version and a rules replay: global (the rules decide for every company).
      'versions/version': String(
        ((await t.db('rulesets').insert({ version: 1, content_hash: 'h1', content: JSON.stringify({ files: [] }), activated_by: 'test' }).returning('version')) as Array<{ version: number }>)[0]!.version,
      ),
      'replays/id': String(
        (
          (await t.db('rule_replays')
            .insert({ since: new Date(Date.now() - 86_400_000), until: new Date(), candidate: JSON.stringify({ files: [] }), candidate_hash: 'h', live_version: 1, created_by: 'test' })
            .returning('id')) as Array<{ id: string }>
        )[0]!.id,
      ),
    };

    // A PSA connection: global configuration (admin only, issue 16); a webhook one needs no PSA to exist.
    const psa = await api.post('/psa-connections', {
      name: 'relay',
      type: 'webhook',
      enabled: false,
      config: { url: 'http://127.0.0.1:9/hook', secret: `whsec_${Buffer.alloc(24, 7).toString('base64')}` },
    });
    expect(psa.status).toBe(201);
    global['psa-connections/name'] = 'relay';
    // A failed delivery of each company's ticket: owned like the ticket (issue 16, POST /psa-deliveries/:id/retry).
    for (const [o, ticketId] of Object.entries(owned['tickets/id'] ?? {}) as Array<[Owner, string]>) {
      own('psa-deliveries/id', o, (await insertRow(t.db, 'psa_deliveries', { ticket_id: ticketId, connection_id: psa.body.id, state: 'failed', attempts: 3, last_error: 'test' })).id);
    }

    // D: its tokens are made while it exists, then it is deleted through the API (issue 13 item 1).
    companyId.D = await createCompany(api, `Company ${marker('D')}`);
    world = { companyId, owned, global, hostname };
    for (const role of ROLES) {
      for (const kind of SCOPE_KINDS) {
        const { token } = await issueToken(t.db, { name: `${role} ${kind}`, role, scope: scopeFor(kind, companyId), actor: 'test' });
        tokens.set(tokenKey(role, kind), `Bearer ${token}`);
      }
    }
    const victim = await issueToken(t.db, { name: 'revocation target', role: 'viewer', scope: ALL_COMPANIES, actor: 'test' });
    global['tokens/id'] = victim.view.id;
    expect((await api.delete(`/companies/${companyId.D}`)).status).toBe(204);
  });
  afterAll(async () => t.close());

  /** Fills the path; undefined when an owned parameter has no object of `owner`. */
  const concrete = (r: DocRoute, owner: Owner): string | undefined => {
    let i = 0;
    let missing = false;
    const path = r.path.replace(/\{[^}]+\}/g, () => {
      const key = r.paramKeys[i++] ?? '';
      const v = world.owned[key]?.[owner] ?? world.global[key];
      if (v === undefined) missing = true;
      return encodeURIComponent(v ?? '');
    });
    return missing ? undefined : path;
  };
  const ownsPath = (r: DocRoute) => r.paramKeys.some((k) => world.owned[k] !== undefined);
  const exercised = () => routes.filter((r) => NOT_EXERCISED[r.label] === undefined);

  it('reads its routes from the served OpenAPI document, and can fill every path parameter in it', () => {
    expect(routes.length).toBeGreaterThan(60);
    expect(routes.filter((r) => r.method === 'get').map((r) => r.path)).toEqual(expect.arrayContaining(['/api/v1/companies', '/api/v1/tickets/{id}', '/api/v1/audit']));
    // An allow-list entry for a route that no longer exists is stale: remove it.
    expect(Object.keys(NOT_EXERCISED).filter((label) => !routes.some((r) => r.label === label))).toEqual([]);
    const unfillable = exercised().flatMap((r) => r.paramKeys.filter((k) => world.owned[k] === undefined && world.global[k] === undefined).map((k) => `${r.label}: {${k}}`));
    // A new route whose parameter this test cannot fill: teach `owned` or `global` in beforeAll how to make one.
    expect(unfillable).toEqual([]);
  });

  const tokenArb = fc.record({ role: fc.constantFrom(...ROLES), kind: fc.constantFrom(...SCOPE_KINDS) });

  it('every GET returns only what the token may see (role, company scope, deleted companies, triage)', async () => {
    const gets = exercised().filter((r) => r.method === 'get');
    const failures: string[] = [];
    for (const r of gets) {
      const owners = ownsPath(r) ? OWNERS.filter((o) => concrete(r, o) !== undefined) : OWNERS;
      const queryArb = fc.record({
        // A list filter naming another company's object must not open a door either.
        filter: fc.constantFrom(...(['none', 'companyId', 'deviceId', 'contractId'] as const).filter((q) => q === 'none' || r.queryParams.includes(q))),
      });
      try {
        await fc.assert(
          fc.asyncProperty(tokenArb, fc.constantFrom(...owners), queryArb, async ({ role, kind }, owner, { filter }) => {
            const path = concrete(r, owner) ?? r.path;
            const filterKey = filter === 'companyId' ? 'companies/id' : filter === 'deviceId' ? 'devices/id' : 'contracts/id';
            const filterValue = filter === 'none' ? undefined : world.owned[filterKey]?.[owner];
            const url = filterValue === undefined ? path : `${path}?${filter}=${filterValue}`;
            const res = await request(t.app).get(url).set('Authorization', tokens.get(tokenKey(role, kind)) ?? '');
            const what = `${role} token of scope "${kind}" GET ${url} (target ${owner}) → ${res.status} ${JSON.stringify(res.body?.error ?? '').slice(0, 200)}`;
            const visible = VISIBLE[kind];
            const roleOk = RANK[role] >= RANK[r.role];
            if (res.status >= 500 && !(res.status === 503 && res.body?.error?.code === 'NOT_READY')) throw new Error(`5xx: ${what}`);
            if (!roleOk && res.status !== 403) throw new Error(`below the route's role (${r.role}), expected 403: ${what}`);
            const targeted = ownsPath(r) || filterValue !== undefined;
            if (targeted && !visible.has(owner) && res.status < 400) throw new Error(`another company's object answered: ${what}`);
            if (res.status < 300) {
              const text = res.text ?? '';
              const leaked = foreignOwners(kind).filter((o) => text.includes(marker(o)));
              if (leaked.length > 0) throw new Error(`data of ${leaked.join(', ')} in the answer: ${what}`);
              const scope = scopeFor(kind, world.companyId);
              const foreign = scope.all ? [] : companyIdsIn(res.body).filter((c) => !scope.companyIds.includes(c));
              if (foreign.length > 0) throw new Error(`companyId ${foreign.join(', ')} outside the scope in the answer: ${what}`);
            }
            // And the other half: an object inside the scope is visible to a role that may read it.
            if (roleOk && ownsPath(r) && visible.has(owner) && res.status !== 200 && !(res.status === 503 && res.body?.error?.code === 'NOT_READY'))
              throw new Error(`an object inside the scope is not visible: ${what}`);
          }),
          runs(6),
        );
      } catch (e) {
        failures.push(`${r.label}: ${reportOf(e)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('every write outside the token role or company scope is refused and changes nothing', async () => {
    const writes = exercised().filter((r) => r.method !== 'get');
    const failures: string[] = [];
    // last_used_at is the token's own bookkeeping (written at most once a minute, asynchronously), not a change.
    const state = () => tableState(t.db, { narrow: { api_tokens: 'x.id, x.revoked_at, x.all_companies' } });
    // Nothing here may change a row, so each run compares with the state after the previous one (one snapshot per run).
    let baseline = await state();
    for (const r of writes) {
      const body = r.bodySchema
        ? fc.oneof(
            { weight: 3, arbitrary: bodyArbitrary(aimedSchema(r.bodySchema, doc, true), doc, hints) },
            { weight: 1, arbitrary: bodyArbitrary(aimedSchema(r.bodySchema, doc, false), doc, hints) },
          )
        : fc.constant(undefined);
      try {
        await fc.assert(
          fc.asyncProperty(tokenArb, fc.constantFrom(...OWNERS), body, async ({ role, kind }, owner, rawBody) => {
            const roleOk = RANK[role] >= RANK[r.role];
            // Only what must be refused: below the role, or aimed at a company the token does not see.
            fc.pre(!roleOk || !VISIBLE[kind].has(owner));
            const path = concrete(r, owner);
            fc.pre(path !== undefined);
            const sent = rawBody === undefined ? undefined : retarget(rawBody, world, owner);
            let req = request(t.app)[r.method](path ?? r.path).set('Authorization', tokens.get(tokenKey(role, kind)) ?? '');
            if (sent !== undefined) req = req.send(sent as object);
            const res = await req;
            const after = await state();
            const what = `${role} token of scope "${kind}" ${r.method.toUpperCase()} ${path} (target ${owner}) body ${JSON.stringify(sent)?.slice(0, 300)} → ${res.status} ${JSON.stringify(res.body?.error ?? res.body ?? '').slice(0, 200)}`;
            const changed = stateChanges(baseline, after);
            // The new state is the baseline of the next run, so that shrinking blames only the requests that change something.
            baseline = after;
            if (changed.length > 0) throw new Error(`changed ${changed.join(', ')}: ${what}`);
            if (res.status >= 500 && !(res.status === 503 && res.body?.error?.code === 'NOT_READY')) throw new Error(`5xx: ${what}`);
            if (!roleOk && res.status !== 403) throw new Error(`below the route's role (${r.role}), expected 403: ${what}`);
            if (ownsPath(r) && res.status < 400) throw new Error(`another company's object accepted the write: ${what}`);
            if (res.status < 300) {
              const leaked = foreignOwners(kind).filter((o) => (res.text ?? '').includes(marker(o)));
              if (leaked.length > 0) throw new Error(`data of ${leaked.join(', ')} in the answer: ${what}`);
            }
          }),
          runs(8),
        );
      } catch (e) {
        failures.push(`${r.label}: ${reportOf(e)}`);
      }
    }
    expect(failures).toEqual([]);
    // Grows with the route list (8 runs per write route, a table snapshot per run): more than the default 60 s on a shared machine.
  }, 180_000);
});
