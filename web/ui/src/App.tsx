import { useEffect, useRef, useState } from 'preact/hooks'
import { ApiError, api, errorText, hasCredentials, login, logout, onUnauthorized, restoreLogin } from './api'
import { ErrorBoundary } from './components/common'
import { live, type LiveMode } from './live'
import { AppsPage } from './pages/Apps'
import { CatalogPage } from './pages/Catalog'
import { DeployPage } from './pages/Deploy'
import { InspectorPage, isTyping } from './pages/Inspector'
import { LocationsPage } from './pages/Locations'
import { Link, navigate, useRoute } from './router'

const nav = [
  { href: '/', label: 'Applications', key: 'a', match: (p: string) => p === '/' || p.startsWith('/apps') },
  { href: '/deploy', label: 'Deploy', key: 'd', match: (p: string) => p.startsWith('/deploy') },
  { href: '/catalog', label: 'Catalog', key: 'c', match: (p: string) => p.startsWith('/catalog') },
  { href: '/locations', label: 'Locations', key: 'l', match: (p: string) => p.startsWith('/locations') },
]

export const shortcuts: [string, string][] = [
  ['g a', 'Applications'],
  ['g d', 'Deploy a blueprint'],
  ['g c', 'Catalog'],
  ['g l', 'Locations'],
  ['/', 'Filter the list (sensors, config, catalog)'],
  ['1 … 6', 'Inspector: Summary, Sensors, Config, Effectors, Policies, Activities'],
  ['← →', 'Inspector: previous / next tab (on the tabs)'],
  ['↑ ↓ Home End', 'Trees: move between entities or tasks'],
  ['→ ←', 'Trees: open / close an item, or go to its child / parent'],
  ['Enter, Space', 'Trees: select the entity or task'],
  ['Ctrl+Enter', 'Deploy editor: deploy'],
  ['Esc', 'Close this help'],
  ['?', 'Show this help'],
]

function Page() {
  const { path } = useRoute()
  let m: RegExpMatchArray | null
  if (path === '/' || path === '/apps' || path === '/apps/') return <AppsPage />
  if ((m = path.match(/^\/apps\/([^/]+)\/entities\/([^/]+)\/?$/))) return <InspectorPage app={decodeURIComponent(m[1])} entity={decodeURIComponent(m[2])} />
  if ((m = path.match(/^\/apps\/([^/]+)\/?$/))) return <InspectorPage app={decodeURIComponent(m[1])} />
  if (path.startsWith('/deploy')) return <DeployPage />
  if (path.startsWith('/catalog')) return <CatalogPage />
  if (path.startsWith('/locations')) return <LocationsPage />
  return (
    <section class="page">
      <h1>Not found</h1>
      <p>
        Nothing at <code>{path}</code>. Go to the <Link href="/">applications</Link>.
      </p>
    </section>
  )
}

function LiveIndicator() {
  const [mode, setMode] = useState<LiveMode>(live.mode)
  useEffect(() => live.onMode(setMode), [])
  const text = mode === 'events' ? 'live' : mode === 'polling' ? 'polling' : 'connecting'
  const title =
    mode === 'events' ? 'Live: updates arrive from the server’s event stream' : mode === 'polling' ? 'Updates every 2 s (the server’s event stream is not available)' : 'Connecting…'
  return (
    <span class={'live ' + mode} title={title} id="live-mode" data-mode={mode}>
      <span class="dot" aria-hidden="true" /> {text}
    </span>
  )
}

function Help({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    ref.current?.showModal()
  }, [])
  return (
    <dialog ref={ref} class="help" aria-labelledby="help-title" onClose={onClose}>
      <h2 id="help-title">Keyboard shortcuts</h2>
      <table class="grid compact">
        <tbody>
          {shortcuts.map(([k, d]) => (
            <tr>
              <th scope="row">
                <kbd>{k}</kbd>
              </th>
              <td>{d}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="dialog">
        <button type="submit" class="primary">
          Close
        </button>
      </form>
    </dialog>
  )
}

function Login({ onDone }: { onDone: () => void }) {
  const ref = useRef<HTMLDialogElement>(null)
  const [err, setErr] = useState<string>()
  useEffect(() => {
    ref.current?.showModal()
  }, [])
  const submit = async (e: Event) => {
    e.preventDefault()
    const f = e.currentTarget as HTMLFormElement
    const user = (f.elements.namedItem('user') as HTMLInputElement).value
    const pass = (f.elements.namedItem('password') as HTMLInputElement).value
    try {
      await login(user, pass)
      ref.current?.close()
      onDone()
    } catch (x) {
      setErr(errorText(x))
    }
  }
  return (
    <dialog ref={ref} class="login" aria-labelledby="login-title" onCancel={(e) => e.preventDefault()}>
      <form onSubmit={submit}>
        <h2 id="login-title">Log in to Gantry</h2>
        <label>
          User <input name="user" autocomplete="username" required />
        </label>
        <label>
          Password <input name="password" type="password" autocomplete="current-password" />
        </label>
        {err && (
          <p class="error" role="alert">
            {err}
          </p>
        )}
        <button type="submit" class="primary">
          Log in
        </button>
      </form>
    </dialog>
  )
}

export function App() {
  const { path } = useRoute()
  const [help, setHelp] = useState(false)
  const [login, setLogin] = useState(false)
  const [epoch, setEpoch] = useState(0) // bumped after logging in: everything reloads
  const [version, setVersion] = useState<string>()

  useEffect(() => {
    const off = onUnauthorized(() => setLogin(true))
    // The event stream opens once the server lets this tab in: without a login on a
    // server with users it would be refused (and the browser might prompt).
    api.version().then(
      (v) => {
        setVersion(v?.version)
        restoreLogin().then(() => live.start())
      },
      (e) => {
        if (!(e instanceof ApiError && e.status === 401)) live.start()
      },
    )
    return off
  }, [])

  useEffect(() => {
    let g = false
    let gTimer: number | undefined
    const onKey = (e: KeyboardEvent) => {
      if (e.altKey || e.ctrlKey || e.metaKey || isTyping(e.target) || document.querySelector('dialog[open]')) return
      if (g) {
        g = false
        const n = nav.find((x) => x.key === e.key)
        if (n) {
          e.preventDefault()
          navigate(n.href)
          requestAnimationFrame(() => document.getElementById('main')?.focus())
        }
        return
      }
      if (e.key === 'g') {
        g = true
        window.clearTimeout(gTimer)
        gTimer = window.setTimeout(() => (g = false), 1500)
      } else if (e.key === '?') {
        e.preventDefault()
        setHelp(true)
      } else if (e.key === '/') {
        const f = document.querySelector<HTMLInputElement>('[data-filter]')
        if (f) {
          e.preventDefault()
          f.focus()
        }
      }
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [])

  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <Link href="/" class="brand" aria-label="Gantry home">
          <svg class="logo" viewBox="0 0 16 16" width="18" height="18" aria-hidden="true">
            <rect width="16" height="16" rx="3" fill="currentColor" />
            <path d="M4 3h8v2H6v6h4V9H8V7h4v6H4z" fill="#17202c" />
          </svg>
          Gantry
        </Link>
        <nav aria-label="Main">
          <ul>
            {nav.map((n) => (
              <li>
                <Link href={n.href} aria-current={n.match(path) ? 'page' : undefined} title={`${n.label} (g ${n.key})`}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="top-right">
          <LiveIndicator />
          {hasCredentials() && (
            <button
              type="button"
              class="link-button"
              onClick={() => {
                logout()
                location.reload()
              }}
            >
              Log out
            </button>
          )}
          <button type="button" class="link-button" onClick={() => setHelp(true)} aria-label="Keyboard shortcuts">
            ? Keys
          </button>
          {version && <span class="muted small">v{version}</span>}
        </div>
      </header>
      <main class="content" id="main" tabIndex={-1} key={epoch}>
        <ErrorBoundary resetKey={path}>
          <Page />
        </ErrorBoundary>
      </main>
      {help && <Help onClose={() => setHelp(false)} />}
      {login && (
        <Login
          onDone={() => {
            setLogin(false)
            setEpoch((n) => n + 1)
            live.reconnect() // the stream, if it was tried, was refused without credentials
          }}
        />
      )}
    </>
  )
}
