/** The ruleset's versions, a diff between any two (CodeMirror's merge view, per file), and "Roll back". */
import { MergeView } from '@codemirror/merge';
import { json } from '@codemirror/lang-json';
import { EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, messageOf, post } from '../api';
import { when } from '../format';
import { roleAtLeast, type Me } from '../session';
import { cspNonce } from '../components/editor';
import type { RulesFile } from './rules';

interface Version {
  version: number;
  contentHash: string;
  createdAt: string;
  createdBy: string | null;
  message: string | null;
  live: boolean;
}

const text = (c: unknown) => (typeof c === 'string' ? c : JSON.stringify(c, null, 2));

function FileDiff({ name, a, b }: { name: string; a: string; b: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const ro = [cspNonce, basicSetup, json(), EditorState.readOnly.of(true), EditorView.editable.of(false)];
    const v = new MergeView({
      parent: host.current!,
      a: { doc: a, extensions: [...ro, EditorView.contentAttributes.of({ 'aria-label': `${name}, older version` })] },
      b: { doc: b, extensions: [...ro, EditorView.contentAttributes.of({ 'aria-label': `${name}, newer version` })] },
      collapseUnchanged: { margin: 3, minSize: 6 },
      highlightChanges: true,
    });
    return () => v.destroy();
  }, [name, a, b]);
  return <div class="editor diff" ref={host} />;
}

export function History({ me, liveVersion, onRolledBack }: { me: Me; liveVersion: number; onRolledBack: () => void }) {
  const [versions, setVersions] = useState<Version[] | null>(null);
  const [from, setFrom] = useState<number | null>(null);
  const [to, setTo] = useState<number | null>(null);
  const [diff, setDiff] = useState<Array<{ name: string; a: string; b: string }> | null>(null);
  const [state, setState] = useState<string | null>(null);
  const canRollBack = roleAtLeast(me, 'admin') && me.all;

  useEffect(() => {
    get<{ items: Version[] }>('/rules/versions', { limit: 50 }).then(
      (r) => {
        setVersions(r.items);
        const sorted = [...r.items].sort((x, y) => y.version - x.version);
        setTo(sorted[0]?.version ?? null);
        setFrom(sorted[1]?.version ?? sorted[0]?.version ?? null);
      },
      (e) => setState(messageOf(e)),
    );
  }, [liveVersion]);

  useEffect(() => {
    if (from === null || to === null) return;
    Promise.all([get<{ files: RulesFile[] }>(`/rules/versions/${from}`), get<{ files: RulesFile[] }>(`/rules/versions/${to}`)]).then(
      ([a, b]) => {
        const names = [...new Set([...a.files.map((f) => f.name), ...b.files.map((f) => f.name)])].sort();
        setDiff(
          names
            .map((name) => ({ name, a: text(a.files.find((f) => f.name === name)?.content ?? ''), b: text(b.files.find((f) => f.name === name)?.content ?? '') }))
            .filter((d) => d.a !== d.b),
        );
      },
      (e) => setState(messageOf(e)),
    );
  }, [from, to]);

  const rollBack = async (v: number) => {
    setState(`Rolling back to version ${v}…`);
    try {
      const r = await post<{ version?: number }>(`/rules/versions/${v}/rollback`, {});
      setState(`Rolled back: version ${v}'s files are live${r?.version ? ` as version ${r.version}` : ''}.`);
      onRolledBack();
    } catch (e) {
      setState(messageOf(e));
    }
  };

  return (
    <section aria-labelledby="history-h">
      <h2 id="history-h">History</h2>
      {state && <p role="status">{state}</p>}
      {versions && (
        <table aria-label="Versions">
          <thead>
            <tr>
              <th class="num">Version</th>
              <th>When</th>
              <th>By</th>
              <th>Message</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr>
                <td class="num">{v.version}</td>
                <td>{when(v.createdAt)}</td>
                <td>{v.createdBy ?? '—'}</td>
                <td>
                  {v.message ?? ''} {v.live && <span class="badge">live</span>}
                </td>
                <td>
                  {canRollBack && !v.live && (
                    <button type="button" class="danger" aria-label={`Roll back to version ${v.version}`} onClick={() => rollBack(v.version)}>
                      Roll back
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {versions && versions.length > 1 && (
        <>
          <div class="toolbar">
            <label>
              Compare version{' '}
              <select value={from ?? ''} onChange={(e) => setFrom(Number(e.currentTarget.value))}>
                {versions.map((v) => (
                  <option value={v.version}>{v.version}</option>
                ))}
              </select>
            </label>
            <label>
              with version{' '}
              <select value={to ?? ''} onChange={(e) => setTo(Number(e.currentTarget.value))}>
                {versions.map((v) => (
                  <option value={v.version}>{v.version}</option>
                ))}
              </select>
            </label>
          </div>
          <div aria-label="Version diff" role="region">
            {diff === null ? (
              <p class="muted">Loading…</p>
            ) : diff.length === 0 ? (
              <p class="muted">The two versions have the same files.</p>
            ) : (
              diff.map((d) => (
                <div>
                  <h3 class="mono">{d.name}</h3>
                  <FileDiff name={d.name} a={d.a} b={d.b} />
                </div>
              ))
            )}
          </div>
        </>
      )}
    </section>
  );
}
