import type { Knex } from 'knex';

/**
 * The whole domain of SPEC §3–§6 in one migration: companies, SLAs, catalogue, contracts
 * and their renewals, devices and dated links, billing, tickets, the alert inbox, rulesets,
 * maintenance windows, audit, tokens and sources.
 *
 * Invariants live in Postgres, not in application code (STYLE.md principle 4):
 * - a contract can be renewed once: UNIQUE (renewal_of_id);
 * - a device's contract links never overlap: EXCLUDE over daterange (btree_gist);
 * - one default service-desk contract per company on any date: EXCLUDE over daterange;
 * - at most one open ticket per dedup key: partial unique index;
 * - one stored alert per (source, source alert id); one receipt per (alert, delivery);
 * - a scheduled renewal is applied once: UNIQUE renewal_applications.renewal_contract_id.
 * Money is numeric(14,4); ids are bigint identities (strings in the API).
 */

const PRIORITIES = `('critical','high','medium','low')`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE EXTENSION IF NOT EXISTS btree_gist');

  await knex.raw(`
    CREATE TABLE companies (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name text NOT NULL,
      code text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT companies_name_unique UNIQUE (name),
      CONSTRAINT companies_code_unique UNIQUE (code)
    );

    CREATE TABLE company_source_sites (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      company_id bigint NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
      source text NOT NULL,
      site_id text NOT NULL,
      site_name text,
      CONSTRAINT company_source_sites_unique UNIQUE (source, site_id)
    );
    CREATE INDEX company_source_sites_company_idx ON company_source_sites (company_id);

    CREATE TABLE slas (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name text NOT NULL,
      code text,
      timezone text NOT NULL,
      is_24x7 boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT slas_name_unique UNIQUE (name),
      CONSTRAINT slas_code_unique UNIQUE (code)
    );

    -- Weekly business hours, several ranges a day allowed. weekday: 1 = Monday … 7 = Sunday (ISO).
    CREATE TABLE sla_business_hours (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      sla_id bigint NOT NULL REFERENCES slas(id) ON DELETE CASCADE,
      weekday smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
      start_time time NOT NULL,
      end_time time NOT NULL,
      CHECK (end_time > start_time OR end_time = '00:00'),
      CONSTRAINT sla_business_hours_unique UNIQUE (sla_id, weekday, start_time)
    );

    CREATE TABLE sla_holidays (
      sla_id bigint NOT NULL REFERENCES slas(id) ON DELETE CASCADE,
      day date NOT NULL,
      name text,
      PRIMARY KEY (sla_id, day)
    );

    CREATE TABLE sla_targets (
      sla_id bigint NOT NULL REFERENCES slas(id) ON DELETE CASCADE,
      priority text NOT NULL CHECK (priority IN ${PRIORITIES}),
      first_response_minutes integer NOT NULL CHECK (first_response_minutes >= 0),
      resolution_plan_minutes integer NOT NULL CHECK (resolution_plan_minutes >= 0),
      resolution_minutes integer NOT NULL CHECK (resolution_minutes >= 0),
      PRIMARY KEY (sla_id, priority)
    );

    CREATE TABLE services (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name text NOT NULL,
      code text,
      unit_price numeric(14,4) NOT NULL CHECK (unit_price >= 0),
      unit_cost numeric(14,4) CHECK (unit_cost >= 0),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT services_name_unique UNIQUE (name),
      CONSTRAINT services_code_unique UNIQUE (code)
    );

    CREATE TABLE service_bundles (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name text NOT NULL,
      code text,
      unit_price numeric(14,4) NOT NULL CHECK (unit_price >= 0),
      unit_cost numeric(14,4) CHECK (unit_cost >= 0),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT service_bundles_name_unique UNIQUE (name),
      CONSTRAINT service_bundles_code_unique UNIQUE (code)
    );

    CREATE TABLE service_bundle_items (
      bundle_id bigint NOT NULL REFERENCES service_bundles(id) ON DELETE CASCADE,
      service_id bigint NOT NULL REFERENCES services(id) ON DELETE RESTRICT,
      PRIMARY KEY (bundle_id, service_id)
    );

    CREATE TABLE contracts (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      company_id bigint NOT NULL REFERENCES companies(id) ON DELETE RESTRICT,
      name text NOT NULL,
      code text,
      description text,
      type text NOT NULL CHECK (type IN ('recurring_service','time_and_materials','fixed_price','block_hours','retainer','per_ticket')),
      period_type text NOT NULL CHECK (period_type IN ('monthly','quarterly','semi_annual','yearly')),
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active','inactive')),
      start_date date NOT NULL,
      end_date date NOT NULL,
      sla_id bigint REFERENCES slas(id) ON DELETE RESTRICT,
      is_default_service_desk boolean NOT NULL DEFAULT false,
      integrated_billing boolean NOT NULL DEFAULT false,
      purchase_order text,
      contact_name text,
      auto_renew boolean NOT NULL DEFAULT false,
      auto_renew_days_before integer CHECK (auto_renew_days_before BETWEEN 0 AND 365),
      -- R-REN-2: a contract can be renewed only once; the renewal may itself be renewed (a chain).
      renewal_of_id bigint REFERENCES contracts(id) ON DELETE RESTRICT,
      renewed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT contracts_dates_check CHECK (end_date >= start_date),
      CONSTRAINT contracts_renewal_of_unique UNIQUE (renewal_of_id),
      CONSTRAINT contracts_not_own_renewal CHECK (renewal_of_id IS NULL OR renewal_of_id <> id),
      CONSTRAINT contracts_code_unique UNIQUE (code),
      -- One default service-desk contract per company on any date (R-LINK-4, R-REN-12).
      CONSTRAINT contracts_one_default_per_company EXCLUDE USING gist (
        company_id WITH =, daterange(start_date, end_date, '[]') WITH &&
      ) WHERE (is_default_service_desk)
    );
    CREATE INDEX contracts_company_idx ON contracts (company_id);
    CREATE INDEX contracts_name_idx ON contracts (lower(name));

    CREATE TABLE contract_services (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      contract_id bigint NOT NULL REFERENCES contracts(id) ON DELETE CASCADE,
      service_id bigint NOT NULL REFERENCES services(id) ON DELETE RESTRICT,
      units numeric(14,4) NOT NULL CHECK (units >= 0),
      unit_price numeric(14,4) NOT NULL CHECK (unit_price >= 0),
      unit_cost numeric(14,4) CHECK (unit_cost >= 0),
      CONSTRAINT contract_services_unique UNIQUE (contract_id, service_id)
    );

    -- Dated changes: from effective_date on, units (the new count) and/or unit_price apply.
    CREATE TABLE contract_service_adjustments (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      contract_service_id bigint NOT NULL REFERENCES contract_services(id) ON DELETE CASCADE,
      effective_date date NOT NULL,
      units numeric(14,4) CHECK (units >= 0),
      unit_price numeric(14,4) CHECK (unit_price >= 0),
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (units IS NOT NULL OR unit_price IS NOT NULL)
    );
    CREATE INDEX contract_service_adjustments_idx ON contract_service_adjustments (contract_service_id, effective_date);

    CREATE TABLE contract_bundles (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      contract_id bigint NOT NULL REFERENCES contracts(id) ON DELETE CASCADE,
      bundle_id bigint NOT NULL REFERENCES service_bundles(id) ON DELETE RESTRICT,
      units numeric(14,4) NOT NULL CHECK (units >= 0),
      unit_price numeric(14,4) NOT NULL CHECK (unit_price >= 0),
      unit_cost numeric(14,4) CHECK (unit_cost >= 0),
      CONSTRAINT contract_bundles_unique UNIQUE (contract_id, bundle_id)
    );

    CREATE TABLE contract_bundle_adjustments (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      contract_bundle_id bigint NOT NULL REFERENCES contract_bundles(id) ON DELETE CASCADE,
      effective_date date NOT NULL,
      units numeric(14,4) CHECK (units >= 0),
      unit_price numeric(14,4) CHECK (unit_price >= 0),
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (units IS NOT NULL OR unit_price IS NOT NULL)
    );
    CREATE INDEX contract_bundle_adjustments_idx ON contract_bundle_adjustments (contract_bundle_id, effective_date);

    CREATE TABLE billing_rules (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      contract_id bigint NOT NULL REFERENCES contracts(id) ON DELETE CASCADE,
      name text NOT NULL,
      description text,
      service_id bigint REFERENCES services(id) ON DELETE RESTRICT,
      amount numeric(14,4),
      frequency text NOT NULL DEFAULT 'monthly' CHECK (frequency IN ('monthly','quarterly','semi_annual','yearly','one_time')),
      active boolean NOT NULL DEFAULT true,
      start_date date NOT NULL,
      end_date date,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (end_date IS NULL OR end_date >= start_date)
    );
    CREATE INDEX billing_rules_contract_idx ON billing_rules (contract_id);

    CREATE TABLE contract_notes (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      contract_id bigint NOT NULL REFERENCES contracts(id) ON DELETE CASCADE,
      kind text NOT NULL DEFAULT 'note',
      body text NOT NULL,
      author text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX contract_notes_contract_idx ON contract_notes (contract_id);

    -- R-REN-13: module billing type → service, for integrated customer billing.
    CREATE TABLE service_mappings (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      contract_id bigint NOT NULL REFERENCES contracts(id) ON DELETE CASCADE,
      module_billing_type text NOT NULL,
      service_id bigint NOT NULL REFERENCES services(id) ON DELETE RESTRICT,
      CONSTRAINT service_mappings_unique UNIQUE (contract_id, module_billing_type)
    );

    CREATE TABLE contract_charges (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      contract_id bigint NOT NULL REFERENCES contracts(id) ON DELETE CASCADE,
      charge_date date NOT NULL,
      description text NOT NULL,
      amount numeric(14,4) NOT NULL,
      billed boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX contract_charges_contract_idx ON contract_charges (contract_id, charge_date);

    CREATE TABLE projects (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      company_id bigint NOT NULL REFERENCES companies(id) ON DELETE RESTRICT,
      contract_id bigint REFERENCES contracts(id) ON DELETE SET NULL,
      name text NOT NULL,
      status text NOT NULL DEFAULT 'open' CHECK (status IN ('open','closed')),
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX projects_contract_idx ON projects (contract_id);

    CREATE TABLE devices (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      -- NULL only for a device discovered from an alert of an unknown site, awaiting triage.
      company_id bigint REFERENCES companies(id) ON DELETE RESTRICT,
      hostname text NOT NULL,
      site text,
      role text,
      discovered boolean NOT NULL DEFAULT false,
      first_seen_at timestamptz,
      last_seen_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX devices_company_hostname_unique ON devices (company_id, lower(hostname)) NULLS NOT DISTINCT;

    CREATE TABLE device_source_refs (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      device_id bigint NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      source text NOT NULL,
      source_device_id text NOT NULL,
      CONSTRAINT device_source_refs_unique UNIQUE (source, source_device_id)
    );
    CREATE INDEX device_source_refs_device_idx ON device_source_refs (device_id);

    -- R-LINK-1: dated device → contract (and service) links; valid_to inclusive, NULL = open-ended.
    CREATE TABLE device_contract_links (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      device_id bigint NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      contract_id bigint NOT NULL REFERENCES contracts(id) ON DELETE RESTRICT,
      service_id bigint REFERENCES services(id) ON DELETE RESTRICT,
      valid_from date NOT NULL,
      valid_to date,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (valid_to IS NULL OR valid_to >= valid_from),
      CONSTRAINT device_contract_links_no_overlap EXCLUDE USING gist (
        device_id WITH =, daterange(valid_from, valid_to, '[]') WITH &&
      )
    );
    CREATE INDEX device_contract_links_contract_idx ON device_contract_links (contract_id);

    CREATE TABLE sources (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
      plugin text NOT NULL,
      -- Non-secret plugin options (label names, dedup fields, …).
      config jsonb NOT NULL DEFAULT '{}'::jsonb,
      auth_type text NOT NULL CHECK (auth_type IN ('hmac','token','basic')),
      -- Non-secret auth settings (header, algorithm, username).
      auth_settings jsonb NOT NULL DEFAULT '{}'::jsonb,
      -- Secrets, AES-256-GCM encrypted with HUB_SECRET_KEY (HMAC needs the secret back).
      auth_secrets_enc text NOT NULL,
      max_body_bytes integer,
      rate_limit_per_second integer CHECK (rate_limit_per_second > 0),
      enabled boolean NOT NULL DEFAULT true,
      origin text NOT NULL DEFAULT 'api' CHECK (origin IN ('api','file')),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT sources_name_unique UNIQUE (name)
    );

    CREATE TABLE rulesets (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      version integer NOT NULL,
      content_hash text NOT NULL,
      content jsonb NOT NULL,
      activated_at timestamptz NOT NULL DEFAULT now(),
      activated_by text NOT NULL,
      CONSTRAINT rulesets_version_unique UNIQUE (version),
      CONSTRAINT rulesets_hash_unique UNIQUE (content_hash)
    );

    CREATE TABLE ruleset_errors (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      content_hash text NOT NULL,
      errors jsonb NOT NULL,
      detected_at timestamptz NOT NULL DEFAULT now(),
      detected_by text NOT NULL
    );

    CREATE TABLE maintenance_windows (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name text NOT NULL,
      company_id bigint REFERENCES companies(id) ON DELETE CASCADE,
      site text,
      device_id bigint REFERENCES devices(id) ON DELETE CASCADE,
      category text,
      timezone text NOT NULL DEFAULT 'UTC',
      -- Alertmanager time_intervals semantics: [{ times, weekdays, days_of_month, months, years }].
      time_intervals jsonb NOT NULL DEFAULT '[]'::jsonb,
      starts_at timestamptz,
      ends_at timestamptz,
      process_after boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at)
    );

    CREATE TABLE tickets (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      company_id bigint REFERENCES companies(id) ON DELETE RESTRICT,
      device_id bigint REFERENCES devices(id) ON DELETE SET NULL,
      contract_id bigint REFERENCES contracts(id) ON DELETE RESTRICT,
      service_id bigint REFERENCES services(id) ON DELETE RESTRICT,
      sla_id bigint REFERENCES slas(id) ON DELETE RESTRICT,
      source text NOT NULL,
      dedup_key text NOT NULL,
      priority text NOT NULL CHECK (priority IN ${PRIORITIES}),
      status text NOT NULL DEFAULT 'new' CHECK (status IN ('new','in_progress','waiting_customer','resolved','closed')),
      queue text,
      title text NOT NULL,
      description text,
      needs_triage boolean NOT NULL DEFAULT false,
      occurrences integer NOT NULL DEFAULT 1 CHECK (occurrences >= 1),
      flaps integer NOT NULL DEFAULT 0,
      first_occurred_at timestamptz NOT NULL,
      last_occurred_at timestamptz NOT NULL,
      first_response_due_at timestamptz,
      resolution_plan_due_at timestamptz,
      resolution_due_at timestamptz,
      sla_paused_at timestamptz,
      resolved_at timestamptz,
      resolved_automatically boolean NOT NULL DEFAULT false,
      closed_at timestamptz,
      stale_after_minutes integer,
      reopen_window_minutes integer,
      resolve_action text NOT NULL DEFAULT 'resolve' CHECK (resolve_action IN ('resolve','annotate')),
      decision jsonb NOT NULL DEFAULT '{}'::jsonb,
      ruleset_version integer,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    -- R-ALR-4: at most one open ticket per dedup key; the database decides under concurrency.
    CREATE UNIQUE INDEX tickets_one_open_per_dedup_key ON tickets (dedup_key) WHERE status NOT IN ('resolved','closed');
    CREATE INDEX tickets_dedup_key_idx ON tickets (dedup_key, created_at DESC);
    CREATE INDEX tickets_device_idx ON tickets (device_id);
    CREATE INDEX tickets_company_idx ON tickets (company_id);
    CREATE INDEX tickets_contract_idx ON tickets (contract_id);
    CREATE INDEX tickets_stale_idx ON tickets (last_occurred_at) WHERE stale_after_minutes IS NOT NULL AND status NOT IN ('resolved','closed');

    CREATE TABLE ticket_notes (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      ticket_id bigint NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
      kind text NOT NULL DEFAULT 'note',
      body text NOT NULL,
      author text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX ticket_notes_ticket_idx ON ticket_notes (ticket_id);

    -- SLA clock pauses (status waiting_customer).
    CREATE TABLE ticket_sla_pauses (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      ticket_id bigint NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
      paused_at timestamptz NOT NULL,
      resumed_at timestamptz,
      CHECK (resumed_at IS NULL OR resumed_at >= paused_at)
    );
    CREATE UNIQUE INDEX ticket_sla_pauses_one_open ON ticket_sla_pauses (ticket_id) WHERE resumed_at IS NULL;

    -- R-LINK-6: labour recorded against the ticket's contract and service.
    CREATE TABLE time_entries (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      ticket_id bigint REFERENCES tickets(id) ON DELETE SET NULL,
      project_id bigint REFERENCES projects(id) ON DELETE SET NULL,
      contract_id bigint REFERENCES contracts(id) ON DELETE RESTRICT,
      service_id bigint REFERENCES services(id) ON DELETE RESTRICT,
      work_date date NOT NULL,
      hours numeric(8,2) NOT NULL CHECK (hours > 0 AND hours <= 24),
      cost_rate numeric(14,4) CHECK (cost_rate >= 0),
      description text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX time_entries_contract_idx ON time_entries (contract_id, work_date);
    CREATE INDEX time_entries_ticket_idx ON time_entries (ticket_id);

    -- The alert inbox. A delivery is one accepted webhook request.
    CREATE TABLE deliveries (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      source_id bigint NOT NULL REFERENCES sources(id) ON DELETE RESTRICT,
      -- The sender's delivery id when it sends one (header), else NULL.
      delivery_key text,
      body_sha256 text NOT NULL,
      body_bytes integer NOT NULL,
      remote_addr text,
      received_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT deliveries_key_unique UNIQUE (source_id, delivery_key)
    );

    -- One row per distinct alert event of a source (same source alert id = same alert: same id in the 202).
    CREATE TABLE alerts (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      source_id bigint NOT NULL REFERENCES sources(id) ON DELETE RESTRICT,
      source_alert_id text NOT NULL,
      dedup_key text NOT NULL,
      state text NOT NULL CHECK (state IN ('firing','resolved')),
      severity text NOT NULL CHECK (severity IN ('critical','high','medium','low','info')),
      category text,
      title text NOT NULL,
      message text,
      device_source_id text,
      hostname text,
      site text,
      occurred_at timestamptz NOT NULL,
      labels jsonb NOT NULL DEFAULT '{}'::jsonb,
      raw jsonb NOT NULL,
      first_delivery_id bigint NOT NULL REFERENCES deliveries(id) ON DELETE RESTRICT,
      receipt_count integer NOT NULL DEFAULT 1,
      -- received → processed | suppressed | held | failed (the latest receipt's outcome).
      status text NOT NULL DEFAULT 'received' CHECK (status IN ('received','processed','suppressed','held','failed')),
      ticket_id bigint REFERENCES tickets(id) ON DELETE SET NULL,
      outcome text,
      decision jsonb,
      ruleset_version integer,
      error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT alerts_source_alert_unique UNIQUE (source_id, source_alert_id)
    );
    CREATE INDEX alerts_dedup_key_idx ON alerts (dedup_key);
    CREATE INDEX alerts_created_idx ON alerts (created_at);

    -- Each delivery of an alert is a receipt, the unit of work: it is the transactional outbox
    -- (enqueued_at NULL = not yet on the queue) and is applied to a ticket exactly once (processed_at).
    CREATE TABLE alert_receipts (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      alert_id bigint NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
      delivery_id bigint NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
      received_at timestamptz NOT NULL DEFAULT now(),
      enqueued_at timestamptz,
      not_before timestamptz,
      processed_at timestamptz,
      outcome text,
      ticket_id bigint REFERENCES tickets(id) ON DELETE SET NULL,
      attempts integer NOT NULL DEFAULT 0,
      error text,
      CONSTRAINT alert_receipts_unique UNIQUE (alert_id, delivery_id)
    );
    CREATE INDEX alert_receipts_outbox_idx ON alert_receipts (id) WHERE enqueued_at IS NULL;
    CREATE INDEX alert_receipts_pending_idx ON alert_receipts (received_at) WHERE processed_at IS NULL;
    CREATE INDEX alert_receipts_alert_idx ON alert_receipts (alert_id);

    -- R-REN-15: a (scheduled) renewal's date-dependent effects are applied once.
    CREATE TABLE renewal_applications (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      renewal_contract_id bigint NOT NULL REFERENCES contracts(id) ON DELETE CASCADE,
      original_contract_id bigint NOT NULL REFERENCES contracts(id) ON DELETE CASCADE,
      effective_date date NOT NULL,
      applied_at timestamptz,
      applied_by text,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT renewal_applications_unique UNIQUE (renewal_contract_id)
    );
    CREATE INDEX renewal_applications_due_idx ON renewal_applications (effective_date) WHERE applied_at IS NULL;

    CREATE TABLE api_tokens (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name text NOT NULL,
      -- The visible, identifying start of the token (e.g. hub_ab12cd34); the rest is only hashed.
      prefix text NOT NULL,
      token_hash text NOT NULL,
      role text NOT NULL CHECK (role IN ('admin','operator','viewer')),
      created_at timestamptz NOT NULL DEFAULT now(),
      created_by text,
      last_used_at timestamptz,
      revoked_at timestamptz,
      CONSTRAINT api_tokens_prefix_unique UNIQUE (prefix),
      CONSTRAINT api_tokens_hash_unique UNIQUE (token_hash)
    );

    -- No rows = the token sees every company; rows = it sees only these.
    CREATE TABLE api_token_companies (
      token_id bigint NOT NULL REFERENCES api_tokens(id) ON DELETE CASCADE,
      company_id bigint NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
      PRIMARY KEY (token_id, company_id)
    );

    CREATE TABLE audit_log (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      actor text NOT NULL,
      action text NOT NULL,
      entity_type text NOT NULL,
      entity_id text,
      company_id bigint,
      before jsonb,
      after jsonb,
      request_id text
    );
    CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id);
    CREATE INDEX audit_log_at_idx ON audit_log (at);
  `);
}

const TABLES = [
  'audit_log',
  'api_token_companies',
  'api_tokens',
  'renewal_applications',
  'alert_receipts',
  'alerts',
  'deliveries',
  'time_entries',
  'ticket_sla_pauses',
  'ticket_notes',
  'tickets',
  'maintenance_windows',
  'ruleset_errors',
  'rulesets',
  'sources',
  'device_contract_links',
  'device_source_refs',
  'devices',
  'projects',
  'contract_charges',
  'service_mappings',
  'contract_notes',
  'billing_rules',
  'contract_bundle_adjustments',
  'contract_bundles',
  'contract_service_adjustments',
  'contract_services',
  'contracts',
  'service_bundle_items',
  'service_bundles',
  'services',
  'sla_targets',
  'sla_holidays',
  'sla_business_hours',
  'slas',
  'company_source_sites',
  'companies',
];

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES) await knex.raw('DROP TABLE IF EXISTS ?? CASCADE', [table]);
  // btree_gist is left installed: other schemas in the database may use it.
}
