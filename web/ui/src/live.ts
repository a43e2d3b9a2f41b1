// Live updates. The UI listens to the server's event stream (GET /v1/events,
// Server-Sent Events) when the server has one, and polls every 2 s when it does not (or
// while the stream is down), trying the stream again now and then. Views do not care
// which: they subscribe and refresh what an event concerns, or everything on a "tick".

export interface LiveEvent {
  // The event's type as the server names it (entity.added, sensor.changed, task.ended,
  // ...), or "tick" (a polling round, or a reconnect after which events may have been
  // missed: refresh everything shown).
  kind: string
  app?: string
  entity?: string
  sensor?: string
  value?: unknown
  task?: string
}

// stateChange says whether an event may change what lists and trees show: an entity
// came or went, or a sensor of its state or its group changed.
export function stateChange(ev: LiveEvent): boolean {
  return ev.kind.startsWith('entity.') || (ev.kind === 'sensor.changed' && /^(service\.|group\.|main\.uri)/.test(ev.sensor ?? ''))
}

export type LiveMode = 'connecting' | 'events' | 'polling'

type Listener = (ev: LiveEvent) => void

const pollInterval = 2000
const retryStream = 20000

// The event types of GET /v1/events (api/event.go); each arrives under its own name
// (an `event:` line) with a JSON api.Event as its data. "reset" says events were lost:
// everything shown is reloaded (a tick).
const eventNames = [
  'entity.added', 'entity.removed', 'sensor.changed',
  'task.started', 'task.progress', 'task.ended', 'adjunct.highlight', 'reset',
]

function pick(o: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = o[k]
    if (typeof v === 'string' && v) return v
    if (v && typeof v === 'object' && typeof (v as { id?: unknown }).id === 'string') return (v as { id: string }).id
  }
  return undefined
}

// parseEvent reads the fields the UI uses from an event's data (api.Event).
export function parseEvent(name: string, data: string): LiveEvent {
  let o: Record<string, unknown> = {}
  try {
    const j = JSON.parse(data)
    if (j && typeof j === 'object') o = j as Record<string, unknown>
  } catch {
    /* not JSON: only its name tells */
  }
  const kind = (typeof o.type === 'string' && o.type) || name
  if (kind === 'reset') return { kind: 'tick' }
  return {
    kind,
    app: pick(o, 'applicationId'),
    entity: pick(o, 'entityId'),
    sensor: pick(o, 'sensor'),
    value: o.value,
    task: pick(o, 'taskId'),
  }
}

class Live {
  mode: LiveMode = 'connecting'
  private listeners = new Set<Listener>()
  private modeListeners = new Set<(m: LiveMode) => void>()
  private source?: EventSource
  private pollTimer?: number
  private retryTimer?: number
  private started = false

  start() {
    if (this.started) return
    this.started = true
    this.connect()
    // A page left for another keeps no stream open: the browser allows a few
    // connections per server only, and a page kept for the back button would hold
    // one each. It connects again when it is shown again.
    window.addEventListener('pagehide', () => this.disconnect())
    window.addEventListener('pageshow', (e) => {
      if (e.persisted) this.connect()
    })
  }

  // reconnect tries the event stream again at once (after logging in), or starts.
  reconnect() {
    if (!this.started) this.start()
    else if (this.mode !== 'events') this.connect()
  }

  private disconnect() {
    window.clearTimeout(this.retryTimer)
    this.stopPolling()
    this.source?.close()
    this.source = undefined
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  onMode(fn: (m: LiveMode) => void): () => void {
    this.modeListeners.add(fn)
    return () => this.modeListeners.delete(fn)
  }

  private emit(ev: LiveEvent) {
    this.listeners.forEach((fn) => {
      try {
        fn(ev)
      } catch (e) {
        console.error('live listener', e)
      }
    })
  }

  private setMode(m: LiveMode) {
    if (this.mode === m) return
    this.mode = m
    this.modeListeners.forEach((fn) => fn(m))
  }

  private connect() {
    window.clearTimeout(this.retryTimer)
    this.source?.close()
    this.source = undefined
    if (typeof EventSource === 'undefined') {
      this.startPolling()
      return
    }
    let es: EventSource
    try {
      es = new EventSource('/v1/events', { withCredentials: true })
    } catch {
      this.startPolling()
      return
    }
    this.source = es
    const handle = (name: string) => (m: MessageEvent) => this.emit(parseEvent(name, String(m.data ?? '')))
    es.onmessage = handle('message')
    for (const n of eventNames) es.addEventListener(n, handle(n) as EventListener)
    es.onopen = () => {
      this.stopPolling()
      this.setMode('events')
      this.emit({ kind: 'tick' }) // events may have been missed while connecting
    }
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        // No stream here (404, not text/event-stream, 401...): poll, and try again later.
        es.close()
        if (this.source === es) this.source = undefined
        this.startPolling()
        this.retryTimer = window.setTimeout(() => this.connect(), retryStream)
      } else {
        // The browser reconnects by itself (with Last-Event-ID); poll meanwhile.
        this.startPolling()
      }
    }
  }

  private startPolling() {
    this.setMode('polling')
    if (this.pollTimer !== undefined) return
    this.pollTimer = window.setInterval(() => {
      if (document.visibilityState !== 'hidden') this.emit({ kind: 'tick' })
    }, pollInterval)
  }

  private stopPolling() {
    if (this.pollTimer !== undefined) window.clearInterval(this.pollTimer)
    this.pollTimer = undefined
  }
}

export const live = new Live()
