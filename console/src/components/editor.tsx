/**
 * A CodeMirror 6 JSON editor with an accessible name (the content element is the textbox screen
 * readers and tests find by that name), JSON syntax checking as you type, and the server's problems
 * marked at their line and column (`problems`).
 */
import { json, jsonParseLinter } from '@codemirror/lang-json';
import { forceLinting, linter, lintGutter, type Diagnostic } from '@codemirror/lint';
import { EditorState, StateEffect } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { useEffect, useRef } from 'preact/hooks';

export interface Marker {
  line: number;
  column: number;
  message: string;
  severity: 'error' | 'warning';
}

/** Asks the lint source to run again: the server's problems changed, not the text. */
const marksChanged = StateEffect.define<null>();

/** The style nonce of this page load (index.html's meta, set by the server with the CSP). */
const NONCE = document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content ?? '';
/** CodeMirror writes its themes into one <style> element: it carries the nonce the CSP allows. */
export const cspNonce = EditorView.cspNonce.of(NONCE);

interface Props {
  label: string;
  value: string;
  onChange?: (value: string) => void;
  readOnly?: boolean;
  markers?: Marker[];
  height?: string;
}

function toDiagnostics(state: EditorState, markers: Marker[]): Diagnostic[] {
  return markers.map((m) => {
    const lineNo = Math.min(Math.max(1, m.line || 1), state.doc.lines);
    const line = state.doc.line(lineNo);
    const from = Math.min(line.from + Math.max(0, (m.column || 1) - 1), line.to);
    const to = line.to > from ? line.to : Math.min(from + 1, state.doc.length);
    return { from, to, severity: m.severity, message: m.message, source: 'hub' };
  });
}

export function JsonEditor({ label, value, onChange, readOnly = false, markers = [], height = '420px' }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const change = useRef(onChange);
  change.current = onChange;
  // The server's problems join the JSON syntax check in one lint source (a second source would
  // replace them on the next keystroke's lint run).
  const marks = useRef(markers);
  marks.current = markers;

  useEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          cspNonce,
          basicSetup,
          json(),
          linter((v) => [...jsonParseLinter()(v), ...toDiagnostics(v.state, marks.current)], {
            delay: 300,
            needsRefresh: (u) => u.transactions.some((tr) => tr.effects.some((e) => e.is(marksChanged))),
          }),
          lintGutter(),
          EditorState.readOnly.of(readOnly),
          EditorView.editable.of(!readOnly),
          EditorView.contentAttributes.of({ 'aria-label': label }),
          EditorView.theme({ '&': { height }, '.cm-scroller': { overflow: 'auto' } }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) change.current?.(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => v.destroy();
    // The editor is created once; value changes from outside are applied below.
  }, [label, readOnly]);

  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
  }, [value]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    // Show the first problem (the list below names its line; the editor shows where).
    const first = toDiagnostics(v.state, markers)[0];
    v.dispatch({ effects: first ? [marksChanged.of(null), EditorView.scrollIntoView(first.from, { y: 'center' })] : marksChanged.of(null) });
    forceLinting(v);
  }, [markers]);

  return <div class="editor" ref={host} />;
}
