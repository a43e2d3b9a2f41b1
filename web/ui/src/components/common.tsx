import { Component, type ComponentChildren } from 'preact'
import { useEffect, useRef } from 'preact/hooks'
import { errorText } from '../api'
import { yamlViewer } from '../editor'

// ErrorMessage shows a failure from the server (or the network) where the data would be.
export function ErrorMessage({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div class="error" role="alert">
      <strong>Error:</strong> <span class="error-text">{errorText(error)}</span>
      {onRetry && (
        <button type="button" class="link-button" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  )
}

export function Loading({ what = '' }: { what?: string }) {
  return (
    <p class="muted" aria-live="polite">
      Loading{what ? ' ' + what : ''}…
    </p>
  )
}

// The colour of a state: application status (RUNNING, ERROR, ...), entity lifecycle
// (RUNNING, ON_FIRE, ...), adjunct state or task status.
export function stateClass(state?: string): string {
  switch ((state ?? '').toUpperCase()) {
    case 'RUNNING':
    case 'COMPLETED':
      return 'ok'
    case 'STARTING':
    case 'STOPPING':
    case 'ACCEPTED':
    case 'CREATED':
    case 'IN PROGRESS':
    case 'SUBMITTED FOR EXECUTION':
      return 'busy'
    case 'ERROR':
    case 'ON_FIRE':
    case 'FAILED':
      return 'bad'
    case 'STOPPED':
    case 'DESTROYED':
    case 'CANCELLED':
      return 'off'
  }
  return 'unknown'
}

export function StateBadge({ state, title }: { state?: string; title?: string }) {
  const s = state || 'UNKNOWN'
  return (
    <span class={'badge ' + stateClass(s)} title={title ?? s}>
      {s.replace('_', ' ')}
    </span>
  )
}

// Dot is the small state mark of the tree.
export function Dot({ state, up }: { state?: string; up?: boolean | null }) {
  const cls = state ? stateClass(state) : up ? 'ok' : 'unknown'
  return <span class={'dot ' + cls} aria-hidden="true" />
}

export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return ''
  if (typeof v === 'string') return v
  return JSON.stringify(v)
}

const urlRe = /^(https?):\/\/[^\s]+$/

// Value shows a sensor or config value: URLs as links, structures as JSON.
export function Value({ v }: { v: unknown }) {
  if (v === null || v === undefined) return <span class="muted">null</span>
  if (typeof v === 'string' && urlRe.test(v))
    return (
      <a href={v} target="_blank" rel="noopener noreferrer">
        {v}
      </a>
    )
  if (typeof v === 'object') {
    const s = JSON.stringify(v, null, Object.keys(v as object).length > 3 ? 2 : undefined)
    return <code class="json">{s}</code>
  }
  return <span>{String(v)}</span>
}

export function time(ms?: number): string {
  if (!ms) return ''
  const d = new Date(ms)
  const today = new Date()
  const t = d.toLocaleTimeString(undefined, { hour12: false })
  return d.toDateString() === today.toDateString() ? t : d.toLocaleDateString() + ' ' + t
}

export function duration(from?: number, to?: number): string {
  if (!from) return ''
  const ms = (to || Date.now()) - from
  if (ms < 1000) return ms + ' ms'
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s'
  const m = Math.floor(ms / 60000)
  return `${m} min ${Math.round((ms % 60000) / 1000)} s`
}

export function YamlView({ doc }: { doc: string }) {
  const ref = useRef<HTMLDivElement>(null)
  useEffect(() => {
    if (!ref.current) return
    const view = yamlViewer(ref.current, doc)
    return () => view.destroy()
  }, [doc])
  return <div ref={ref} class="yaml-view" />
}

// ErrorBoundary keeps a failure in one view from blanking the page.
export class ErrorBoundary extends Component<{ children?: ComponentChildren; resetKey?: string }, { error?: unknown }> {
  state: { error?: unknown } = {}
  componentDidCatch(error: unknown) {
    console.error(error)
    this.setState({ error })
  }
  componentDidUpdate(prev: { resetKey?: string }) {
    if (prev.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: undefined })
  }
  render() {
    if (this.state.error)
      return (
        <div class="page">
          <ErrorMessage error={new Error('This view failed: ' + errorText(this.state.error))} onRetry={() => this.setState({ error: undefined })} />
        </div>
      )
    return this.props.children
  }
}
