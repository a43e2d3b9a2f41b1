import type { EditorView } from '@codemirror/view'
import { setDiagnostics } from '@codemirror/lint'
import { useEffect, useRef, useState } from 'preact/hooks'
import { ApiError, api, errorText, type BlueprintProblem } from '../api'
import { blueprintEditor, goTo, setDoc, showProblems } from '../editor'
import { navigate, useRoute } from '../router'

const draftKey = 'gantry.draft'

export const templates: { name: string; yaml: string }[] = [
  {
    name: 'A basic entity (no machine needed)',
    yaml: `name: my-app
location: localhost
services:
- type: basic-entity
  name: my-entity
`,
  },
  {
    name: 'A process on this machine',
    yaml: `# A process on the server's machine, run by shell commands
# (Brooklyn's VanillaSoftwareProcess); each phase's output is in its task.
name: process-example
location: localhost
services:
- type: vanilla-software-process
  id: ticker
  name: ticker
  shell.env:
    INTERVAL: 1
  install.command: echo "installing in $RUN_DIR"
  launch.command: |
    nohup sh -c 'while true; do date > ticks; sleep "$INTERVAL"; done' > /dev/null 2>&1 &
    echo $! > pid
    echo "launched pid $(cat pid)"
  checkRunning.command: kill -0 "$(cat pid)"
  checkRunning.period: 1s
  stop.command: kill "$(cat pid)" && rm -f pid
`,
  },
  {
    name: 'A web server in a container (Docker)',
    yaml: `# Needs the docker location and the gantry/busybox image (make images).
name: hello
location: docker
services:
- type: docker:gantry/busybox
  id: web
  name: web
  openPorts: [80]
  env:
    GREETING: hello from gantry
  command: mkdir -p /www && echo "$GREETING" > /www/index.html && exec httpd -f -p 80 -h /www
`,
  },
]

// blueprintForType is what "deploy this" in the catalog starts from.
export function blueprintForType(type: string, name: string, location: string): string {
  const app = name.replace(/[^A-Za-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase() || 'app'
  return `name: ${app}
location: ${location || 'localhost'}
services:
- type: ${type}
  name: ${app}
`
}

export function DeployPage() {
  const route = useRoute()
  const host = useRef<HTMLDivElement>(null)
  const view = useRef<EditorView | undefined>(undefined)
  const [problems, setProblems] = useState<BlueprintProblem[]>([])
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)
  const typeParam = route.query.get('type')

  const deploy = async () => {
    const v = view.current
    if (!v || busy) return
    setBusy(true)
    setError(undefined)
    setProblems([])
    v.dispatch(setDiagnostics(v.state, []))
    try {
      const task = await api.deploy(v.state.doc.toString())
      localStorage.removeItem(draftKey)
      navigate(`/apps/${encodeURIComponent(task.entityId ?? '')}?tab=activities&task=${encodeURIComponent(task.id)}`)
    } catch (e) {
      setError(errorText(e))
      if (e instanceof ApiError && e.problems.length) {
        setProblems(e.problems)
        showProblems(v, e.problems)
      }
    } finally {
      setBusy(false)
    }
  }
  const deployRef = useRef(deploy)
  deployRef.current = deploy

  useEffect(() => {
    if (!host.current) return
    const initial = localStorage.getItem(draftKey) ?? templates[0].yaml
    view.current = blueprintEditor(host.current, {
      doc: typeParam ? '' : initial,
      onChange: (doc) => localStorage.setItem(draftKey, doc),
      onSubmit: () => deployRef.current(),
    })
    return () => view.current?.destroy()
  }, [])

  // "Deploy this" from the catalog: /deploy?type=ID[&name=N]
  useEffect(() => {
    if (!typeParam || !view.current) return
    const v = view.current
    api
      .locations()
      .catch(() => [])
      .then((locs) => {
        const loc = locs.find((l) => l.id === 'localhost')?.id ?? locs[0]?.id ?? 'localhost'
        setDoc(v, blueprintForType(typeParam, route.query.get('name') ?? typeParam, loc))
        v.focus()
      })
  }, [typeParam])

  const useTemplate = (i: number) => {
    if (!view.current || !templates[i]) return
    setDoc(view.current, templates[i].yaml)
    view.current.focus()
  }

  return (
    <section class="page deploy" aria-labelledby="deploy-title">
      <header class="page-head">
        <h1 id="deploy-title">Deploy a blueprint</h1>
        <label class="inline">
          Start from{' '}
          <select
            onChange={(e) => {
              const i = Number((e.target as HTMLSelectElement).value)
              if (i >= 0) useTemplate(i)
              ;(e.target as HTMLSelectElement).value = '-1'
            }}
          >
            <option value="-1">a template…</option>
            {templates.map((t, i) => (
              <option value={i}>{t.name}</option>
            ))}
          </select>
        </label>
      </header>
      <p class="muted">
        A YAML blueprint (CAMP, Brooklyn's dialect). <kbd>Ctrl</kbd>+<kbd>Enter</kbd> deploys; <kbd>Tab</kbd> leaves the editor
        (indent with <kbd>Ctrl</kbd>+<kbd>]</kbd>). Errors are marked at their line.
      </p>
      <div ref={host} class="editor" id="blueprint-editor" />
      <div class="toolbar">
        <button type="button" class="primary" onClick={deploy} disabled={busy} id="deploy-button">
          {busy ? 'Deploying…' : 'Deploy'}
        </button>
      </div>
      {error && (
        <div class="error" role="alert" id="deploy-error">
          <strong>The server refused the blueprint:</strong>
          {problems.length === 0 && <div class="error-text">{error}</div>}
          {problems.length > 0 && (
            <ul class="problems">
              {problems.map((p) => (
                <li>
                  <button type="button" class="link-button" onClick={() => view.current && goTo(view.current, p.line, p.column)}>
                    line {p.line}, column {p.column}
                  </button>
                  : {p.path ? <code>{p.path}</code> : null} {p.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  )
}
