/**
 * Rules: the live ruleset in editors, "Check" (the server's validator, problems marked in the
 * editor), "Dry run" of a test alert against the edited candidate, "Replay" of the candidate over
 * stored alerts (the server's replay job: progress, counts by field, paged diff), "Save", and the
 * History of versions with a diff between any two and "Roll back". Every verdict is the server's.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, get, messageOf, post, put } from '../api';
import { JsonEditor, type Marker } from '../components/editor';
import { when, words } from '../format';
import { roleAtLeast, type Me } from '../session';
import { conditionWords, type Condition } from '../why';
import { History } from './rules-history';

export interface RulesFile {
  name: string;
  content: string;
}
interface LiveRules {
  version: number;
  createdAt: string;
  createdBy: string | null;
  message: string | null;
  files: RulesFile[];
}
export interface Problem {
  file: string;
  rule?: string | null;
  pointer?: string | null;
  line?: number | null;
  column?: number | null;
  message: string;
  severity?: 'error' | 'warning';
}
type Named = { id: string; name: string } | null;
interface Decision {
  outcome: string;
  contract: Named;
  service: Named | string | null;
  sla: Named | string | null;
  priority: string | null;
  dueDates: { response: string | null; resolution: string | null } | null;
  explanation?: string | string[];
}
interface TraceEntry {
  rule: string;
  file?: string;
  fired: boolean;
  event?: { type: string; params?: Record<string, unknown> };
  failedCondition?: Condition & { pointer?: string };
}
interface DryRun {
  decision: Decision;
  trace?: TraceEntry[];
}

const asText = (c: unknown): string => (typeof c === 'string' ? c : JSON.stringify(c, null, 2));
const label = (v: Named | string | null | undefined): string => (v === null || v === undefined ? '—' : typeof v === 'string' ? v : v.name);

export const filesMap = (files: RulesFile[]): Record<string, string> => Object.fromEntries(files.map((f) => [f.name, f.content]));

export function RulesPage({ me }: { me: Me }) {
  const [live, setLive] = useState<LiveRules | null>(null);
  const [files, setFiles] = useState<RulesFile[]>([]);
  const [current, setCurrent] = useState(0);
  const [problems, setProblems] = useState<Problem[] | null>(null);
  const [checkState, setCheckState] = useState<string | null>(null);
  const [message, setMessage] = useState('');
  const [saveState, setSaveState] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reloadKey, setReloadKey] = useState(0);
  const canTry = roleAtLeast(me, 'operator');
  const canSave = roleAtLeast(me, 'admin') && me.all;

  useEffect(() => {
    get<LiveRules>('/rules').then(
      (r) => {
        const fs = r.files.map((f) => ({ name: f.name, content: asText(f.content) }));
        setLive(r);
        setFiles(fs);
        setCurrent((c) => Math.min(c, Math.max(0, fs.length - 1)));
      },
      (e) => setError(messageOf(e)),
    );
  }, [reloadKey]);

  const edited = useMemo(() => live !== null && files.some((f, i) => asText(live.files[i]?.content) !== f.content), [live, files]);
  const file = files[current];
  const markers: Marker[] = useMemo(
    () =>
      (problems ?? [])
        .filter((p) => p.file === file?.name && p.line)
        .map((p) => ({ line: p.line ?? 1, column: p.column ?? 1, message: `${p.rule ? `${p.rule}: ` : ''}${p.message}`, severity: p.severity === 'warning' ? 'warning' : 'error' })),
    [problems, file?.name],
  );

  const setContent = (content: string) => setFiles((fs) => fs.map((f, i) => (i === current ? { ...f, content } : f)));

  const check = async () => {
    setCheckState('Checking…');
    try {
      const r = await post<{ ok: boolean; problems: Problem[] }>('/rules/validate', { files: filesMap(files) });
      setProblems(r.problems);
      setCheckState(r.ok ? 'No problems: the candidate is valid.' : `${r.problems.filter((p) => p.severity !== 'warning').length} problem(s).`);
    } catch (e) {
      setCheckState(messageOf(e));
    }
  };

  const save = async () => {
    setSaveState('Saving…');
    try {
      const r = await put<{ version: number }>('/rules', { files: filesMap(files), message: message.trim() || 'edited in the console', expectedVersion: live?.version });
      setSaveState(`Saved: version ${r.version} is live.`);
      setProblems(null);
      setMessage('');
      setReloadKey((k) => k + 1);
    } catch (e) {
      if (e instanceof ApiError && Array.isArray((e.details as { problems?: Problem[] } | null)?.problems)) {
        setProblems((e.details as { problems: Problem[] }).problems);
      } else if (e instanceof ApiError && Array.isArray(e.details)) {
        setProblems(e.details as Problem[]);
      }
      setSaveState(`Not saved: ${messageOf(e)}`);
    }
  };

  if (error) return <p role="alert" class="error">{error}</p>;
  if (!live) return <p class="muted">Loading the live ruleset…</p>;
  return (
    <section aria-labelledby="rules-h">
      <div class="title-row">
        <h1 id="rules-h">Rules</h1>
        <span class="muted">
          Live: version {live.version}, by {live.createdBy ?? 'the hub'} on {when(live.createdAt)}
          {live.message ? ` — “${live.message}”` : ''}
        </span>
      </div>
      <div class="rules">
        <div>
          <div class="tabs" role="tablist" aria-label="Rules files">
            {files.map((f, i) => (
              <button type="button" role="tab" aria-selected={i === current} onClick={() => setCurrent(i)}>
                {f.name}
                {asText(live.files[i]?.content) !== f.content ? ' •' : ''}
              </button>
            ))}
          </div>
          {file && <JsonEditor key={file.name} label="Rules file" value={file.content} onChange={setContent} markers={markers} height="430px" readOnly={!canTry} />}
          <div class="toolbar">
            {canTry && (
              <button type="button" onClick={check}>
                Check
              </button>
            )}
            {canSave && (
              <>
                <input aria-label="Message" placeholder="What changed (recorded with the version)" value={message} onInput={(e) => setMessage(e.currentTarget.value)} class="grow" />
                <button type="button" class="primary" onClick={save} disabled={!edited}>
                  Save
                </button>
              </>
            )}
            {edited && (
              <button type="button" onClick={() => setReloadKey((k) => k + 1)}>
                Discard edits
              </button>
            )}
          </div>
          {saveState && <p role="status">{saveState}</p>}
          <section role="region" aria-label="Problems" class="card">
            <h2>Problems</h2>
            {checkState && <p>{checkState}</p>}
            {problems === null ? (
              <p class="muted">Press Check to validate the edited files with the server's validator.</p>
            ) : (
              <ul class="problems">
                {problems.map((p) => (
                  <li>
                    <button type="button" class="link" onClick={() => setCurrent(Math.max(0, files.findIndex((f) => f.name === p.file)))}>
                      <code>
                        {p.file} › {p.rule ?? '—'} › {p.pointer || '/'}
                      </code>
                    </button>{' '}
                    {p.line ? (
                      <span class="mono">
                        line {p.line}:{p.column ?? 1}
                      </span>
                    ) : null}{' '}
                    — {p.message}
                  </li>
                ))}
              </ul>
            )}
          </section>
        </div>
        <div>{canTry ? <DryRunPanel files={files} /> : <p class="muted card">Dry runs and replays need an operator or admin token.</p>}</div>
      </div>
      {canTry && <ReplayPanel files={files} />}
      <History me={me} liveVersion={live.version} onRolledBack={() => setReloadKey((k) => k + 1)} />
    </section>
  );
}

interface SampleAlert {
  label: string;
  alert: unknown;
}

const DEFAULT_ALERT = {
  alertId: 'console-test-1',
  state: 'firing',
  severity: 'critical',
  category: 'disk',
  title: 'Disk full on mail01',
  message: 'C: 98% used',
  device: { hostname: 'mail01', site: 'acme-hq' },
  occurredAt: new Date().toISOString(),
};

function sampleOf(item: Record<string, unknown>): SampleAlert {
  // The stored alert's own id and arrival are for the picker, not part of the test alert.
  const { storedAlertId: _id, receivedAt: _at, ...alert } = (item.alert ?? item) as Record<string, unknown>;
  const device = alert.device as { hostname?: string } | undefined;
  const title = (item.title ?? alert.title ?? 'alert') as string;
  const at = (item.occurredAt ?? alert.occurredAt ?? '') as string;
  return { label: `${title}${device?.hostname && !title.includes(device.hostname) ? ` on ${device.hostname}` : ''}${at ? ` (${when(at)})` : ''}`, alert };
}

function DryRunPanel({ files }: { files: RulesFile[] }) {
  const [text, setText] = useState(JSON.stringify(DEFAULT_ALERT, null, 2));
  const [samples, setSamples] = useState<SampleAlert[]>([]);
  const [result, setResult] = useState<DryRun | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    get<{ items: Array<Record<string, unknown>> }>('/rules/sample-alerts', { limit: 20 }).then(
      (r) => {
        const s = r.items.map(sampleOf);
        setSamples(s);
        if (s[0]) setText(JSON.stringify(s[0].alert, null, 2));
      },
      () => setSamples([]),
    );
  }, []);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      const alert = JSON.parse(text) as unknown;
      setResult(await post<DryRun>('/rules/test', { alert, candidate: { files: filesMap(files) } }));
    } catch (e) {
      setResult(null);
      setError(e instanceof SyntaxError ? `The test alert is not valid JSON: ${e.message}` : messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  const d = result?.decision;
  const explanation = d?.explanation === undefined ? [] : Array.isArray(d.explanation) ? d.explanation : [d.explanation];
  return (
    <div class="card">
      <h2>Dry run</h2>
      <div class="toolbar">
        <label>
          Recent alert{' '}
          <select
            onChange={(e) => {
              const s = samples[Number(e.currentTarget.value)];
              if (s) setText(JSON.stringify(s.alert, null, 2));
            }}
          >
            {samples.length === 0 && <option value="">no stored alerts yet</option>}
            {samples.map((s, i) => (
              <option value={i}>{s.label}</option>
            ))}
          </select>
        </label>
        <button type="button" class="primary" onClick={run} disabled={busy}>
          Dry run
        </button>
      </div>
      <JsonEditor label="Test alert" value={text} onChange={setText} height="200px" />
      {error && <p role="alert" class="error">{error}</p>}
      <section role="region" aria-label="Decision" class="decision">
        {!d ? (
          <p class="muted">Runs the edited rules (not only the live ones) against the test alert; nothing is created.</p>
        ) : (
          <>
            <dl class="facts">
              <dt>Outcome</dt>
              <dd>
                <strong>{words(d.outcome)}</strong>
              </dd>
              <dt>Contract</dt>
              <dd>{label(d.contract) === '—' ? 'none (triage)' : label(d.contract)}</dd>
              <dt>Service</dt>
              <dd>{label(d.service)}</dd>
              <dt>SLA</dt>
              <dd>{label(d.sla)}</dd>
              <dt>Priority</dt>
              <dd>{d.priority ? <span class={`prio ${d.priority}`}>{d.priority}</span> : '—'}</dd>
              <dt>First response due</dt>
              <dd>{when(d.dueDates?.response)}</dd>
              <dt>Resolution due</dt>
              <dd>{when(d.dueDates?.resolution)}</dd>
            </dl>
            {explanation.length > 0 && (
              <ul>
                {explanation.map((x) => (
                  <li>{x}</li>
                ))}
              </ul>
            )}
            {result?.trace && (
              <table aria-label="Trace">
                <thead>
                  <tr>
                    <th>Rule</th>
                    <th>Result</th>
                    <th>Why</th>
                  </tr>
                </thead>
                <tbody>
                  {result.trace.map((t) => (
                    <tr>
                      <td>
                        {t.rule}
                        <div class="muted">{t.file}</div>
                      </td>
                      <td>{t.fired ? <span class="status active">fired</span> : <span class="status">did not fire</span>}</td>
                      <td>
                        {t.fired
                          ? `${t.event?.type ?? ''} ${t.event?.params ? Object.entries(t.event.params).map(([k, v]) => `${k} ${String(v)}`).join(', ') : ''}`
                          : t.failedCondition
                            ? `failed on ${conditionWords(t.failedCondition)}${t.failedCondition.pointer ? ` (${t.failedCondition.pointer})` : ''}`
                            : 'not reached'}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </>
        )}
      </section>
    </div>
  );
}

interface ReplayState {
  id: string;
  state: string;
  progress?: { done: number; total: number };
  counts?: { total: number; changed: number; byField: Record<string, number> };
  error?: string | null;
}
interface ReplayChange {
  alertId: string;
  occurredAt: string;
  title: string;
  device: string | { hostname?: string | null } | null;
  changes: Array<{ field: string; before: unknown; after: unknown }>;
}

const PAGE = 20;
const localInput = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
const shown = (v: unknown) => (v === null || v === undefined ? '—' : typeof v === 'object' ? ((v as { name?: string }).name ?? JSON.stringify(v)) : String(v));

function ReplayPanel({ files }: { files: RulesFile[] }) {
  const [since, setSince] = useState(localInput(new Date(Date.now() - 7 * 86_400_000)));
  // Empty = now (when Replay is pressed): a value frozen at page load would leave out newer alerts.
  const [until, setUntil] = useState('');
  const [job, setJob] = useState<ReplayState | null>(null);
  const [field, setField] = useState('');
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<{ items: ReplayChange[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);

  const poll = (id: string) => {
    get<ReplayState>(`/rules/replays/${id}`).then(
      (s) => {
        setJob({ ...s, id });
        if (s.state !== 'done' && s.state !== 'completed' && s.state !== 'failed') timer.current = setTimeout(() => poll(id), 400);
      },
      (e) => setError(messageOf(e)),
    );
  };
  const start = async () => {
    setError(null);
    setPage(null);
    setOffset(0);
    setField('');
    try {
      const r = await post<{ id: string; state: string }>('/rules/replays', {
        candidate: { files: filesMap(files) },
        since: new Date(since).toISOString(),
        until: (until ? new Date(until) : new Date()).toISOString(),
      });
      setJob({ id: r.id, state: r.state });
      poll(r.id);
    } catch (e) {
      setError(messageOf(e));
    }
  };
  const finished = job && (job.state === 'done' || job.state === 'completed');
  useEffect(() => {
    if (!job || !finished) return;
    get<{ items: ReplayChange[]; total: number }>(`/rules/replays/${job.id}/changes`, { limit: PAGE, offset, field: field || undefined }).then(setPage, (e) => setError(messageOf(e)));
  }, [job?.id, finished, offset, field]);

  const pct = job?.progress && job.progress.total > 0 ? Math.round((100 * job.progress.done) / job.progress.total) : finished ? 100 : 0;
  return (
    <div class="card replay">
      <h2>Replay</h2>
      <p class="muted">Decides the stored alerts of a period with the edited rules and with the live ones, and lists every alert whose decision would change.</p>
      <div class="toolbar">
        <label>
          Since <input type="datetime-local" value={since} onInput={(e) => setSince(e.currentTarget.value)} />
        </label>
        <label>
          Until <input type="datetime-local" value={until} onInput={(e) => setUntil(e.currentTarget.value)} aria-describedby="until-hint" />
          <span id="until-hint" class="muted">
            {until ? '' : ' (empty: now)'}
          </span>
        </label>
        <button type="button" class="primary" onClick={start} disabled={Boolean(job && !finished && job.state !== 'failed')}>
          Replay
        </button>
        {job && (
          <span role="status">
            {job.state === 'failed' ? `Replay failed${job.error ? `: ${job.error}` : ''}` : finished ? 'Replay finished' : 'Replaying…'}{' '}
            <progress aria-label="Replay progress" max={100} value={pct} /> {job.progress ? `${job.progress.done} / ${job.progress.total} alerts` : ''}
          </span>
        )}
      </div>
      {error && <p role="alert" class="error">{error}</p>}
      {finished && job.counts && (
        <div class="counts" aria-label="Changes by field">
          <span>
            <strong>{job.counts.changed}</strong> of {job.counts.total} alerts change
          </span>
          {Object.entries(job.counts.byField).map(([f, n]) => (
            <button
              type="button"
              aria-pressed={field === f}
              onClick={() => {
                setField(field === f ? '' : f);
                setOffset(0);
              }}
            >
              {f}: {n}
            </button>
          ))}
        </div>
      )}
      {finished && page && (
        <>
          <table aria-label="Replay diff">
            <thead>
              <tr>
                <th>Alert</th>
                <th>Device</th>
                <th>Occurred</th>
                <th>Field</th>
                <th>Before → after</th>
              </tr>
            </thead>
            <tbody>
              {page.items.flatMap((a) =>
                a.changes.map((c, i) => (
                  <tr>
                    {i === 0 && (
                      <>
                        <td rowSpan={a.changes.length}>
                          {a.title} <span class="muted">#{a.alertId}</span>
                        </td>
                        <td rowSpan={a.changes.length}>{typeof a.device === 'string' ? a.device : (a.device?.hostname ?? '—')}</td>
                        <td rowSpan={a.changes.length}>{when(a.occurredAt)}</td>
                      </>
                    )}
                    <td>{c.field}</td>
                    <td>
                      <span class="changed-before">{shown(c.before)}</span> → <span class="changed-after">{shown(c.after)}</span>
                    </td>
                  </tr>
                )),
              )}
              {page.items.length === 0 && (
                <tr>
                  <td colSpan={5} class="muted">
                    No decision would change.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
          <div class="pager">
            <span class="muted">
              {page.total === 0 ? 0 : offset + 1}–{Math.min(offset + PAGE, page.total)} of {page.total}
            </span>
            <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
              Previous page
            </button>
            <button type="button" disabled={offset + PAGE >= page.total} onClick={() => setOffset(offset + PAGE)}>
              Next page
            </button>
          </div>
        </>
      )}
    </div>
  );
}
