import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { live, type LiveEvent } from './live'

export interface Async<T> {
  data?: T
  error?: unknown
  loading: boolean
  reload: () => void
}

// useAsync runs load when deps change and on reload; a reload keeps the last data on
// screen until the new data arrives (no flicker on live refreshes).
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true })
  const seq = useRef(0)
  const loadRef = useRef(load)
  loadRef.current = load
  const run = useCallback(() => {
    const n = ++seq.current
    setState((s) => ({ ...s, loading: true }))
    loadRef.current().then(
      (data) => n === seq.current && setState({ data, loading: false }),
      (error) => n === seq.current && setState((s) => ({ data: s.data, error, loading: false })),
    )
  }, [])
  useEffect(() => {
    setState({ loading: true })
    run()
    return () => {
      seq.current++
    }
  }, deps)
  return { ...state, reload: run }
}

// useLive calls refresh (at most every 300 ms) on each live event that matches.
export function useLive(matches: (ev: LiveEvent) => boolean, refresh: () => void) {
  const m = useRef(matches)
  const r = useRef(refresh)
  m.current = matches
  r.current = refresh
  useEffect(() => {
    let timer: number | undefined
    const unsub = live.subscribe((ev) => {
      if (ev.kind !== 'tick' && !m.current(ev)) return
      if (timer !== undefined) return
      timer = window.setTimeout(() => {
        timer = undefined
        r.current()
      }, 300)
    })
    return () => {
      unsub()
      if (timer !== undefined) window.clearTimeout(timer)
    }
  }, [])
}

// useInterval calls fn every ms while active.
export function useInterval(fn: () => void, ms: number, active: boolean) {
  const f = useRef(fn)
  f.current = fn
  useEffect(() => {
    if (!active) return
    const id = window.setInterval(() => f.current(), ms)
    return () => window.clearInterval(id)
  }, [ms, active])
}
