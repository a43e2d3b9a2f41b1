// CodeMirror 6 set up for YAML: the blueprint editor (with the server's validation
// errors as diagnostics at their line and column) and read-only YAML views.
import { basicSetup, minimalSetup } from 'codemirror'
import { EditorState, type Extension } from '@codemirror/state'
import { EditorView, keymap, lineNumbers } from '@codemirror/view'
import { yaml } from '@codemirror/lang-yaml'
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint'
import type { BlueprintProblem } from './api'

export interface EditorOptions {
  doc: string
  onChange?: (doc: string) => void
  onSubmit?: () => void // Ctrl+Enter / Cmd+Enter
  label?: string
}

const theme = EditorView.theme({
  '&': { fontSize: '13px', border: '1px solid var(--border)', borderRadius: '4px', background: 'var(--bg)' },
  '&.cm-focused': { outline: '2px solid var(--focus)', outlineOffset: '1px' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.45' },
  '.cm-gutters': { background: 'var(--bg-alt)', borderRight: '1px solid var(--border)' },
})

export function blueprintEditor(parent: HTMLElement, o: EditorOptions): EditorView {
  const ext: Extension[] = [
    keymap.of([{ key: 'Mod-Enter', run: () => (o.onSubmit?.(), true) }]),
    basicSetup,
    yaml(),
    lintGutter(),
    theme,
    EditorState.tabSize.of(2),
    EditorView.contentAttributes.of({ 'aria-label': o.label ?? 'Blueprint (YAML)' }),
    EditorView.updateListener.of((u) => {
      if (u.docChanged) o.onChange?.(u.state.doc.toString())
    }),
  ]
  return new EditorView({ parent, state: EditorState.create({ doc: o.doc, extensions: ext }) })
}

export function yamlViewer(parent: HTMLElement, doc: string): EditorView {
  return new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [minimalSetup, lineNumbers(), yaml(), theme, EditorState.readOnly.of(true), EditorView.editable.of(false),
        EditorView.contentAttributes.of({ 'aria-label': 'Blueprint (read only)', tabindex: '0' })],
    }),
  })
}

// offsetOf turns a 1-based line and column into a document offset, kept inside the
// document (a parser may point one line past the end).
export function offsetOf(view: EditorView, line: number, column: number): number {
  const doc = view.state.doc
  const l = doc.line(Math.min(Math.max(line, 1), doc.lines))
  return Math.min(l.from + Math.max(column - 1, 0), l.to)
}

// showProblems marks the server's validation errors in the editor: each from its
// line:column to the end of the word there (or the whole line when it points at nothing).
export function showProblems(view: EditorView, problems: BlueprintProblem[]) {
  const diags: Diagnostic[] = problems.map((p) => {
    const from = offsetOf(view, p.line, p.column)
    const line = view.state.doc.lineAt(from)
    let to = from
    const rest = line.text.slice(from - line.from)
    const m = /^[^\s:,\]}]+/.exec(rest)
    if (m) to = from + m[0].length
    if (to === from) return { from: line.from, to: line.to, severity: 'error', message: message(p) }
    return { from, to, severity: 'error', message: message(p) }
  })
  view.dispatch(setDiagnostics(view.state, diags))
}

function message(p: BlueprintProblem): string {
  return (p.path ? p.path + ': ' : '') + p.message
}

export function goTo(view: EditorView, line: number, column: number) {
  const pos = offsetOf(view, line, column)
  view.dispatch({ selection: { anchor: pos }, scrollIntoView: true })
  view.focus()
}

export function setDoc(view: EditorView, doc: string) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: doc } })
}
