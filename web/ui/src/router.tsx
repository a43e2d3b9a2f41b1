// A small router on the History API: the server answers index.html for every path
// that is not under /v1, so every view has an address that can be bookmarked.
import type { ComponentChildren } from 'preact'
import { useEffect, useState } from 'preact/hooks'

const listeners = new Set<() => void>()

export function navigate(to: string, replace = false) {
  if (to === location.pathname + location.search) return
  if (replace) history.replaceState(null, '', to)
  else history.pushState(null, '', to)
  listeners.forEach((fn) => fn())
}

window.addEventListener('popstate', () => listeners.forEach((fn) => fn()))

export interface Route {
  path: string
  query: URLSearchParams
}

export function useRoute(): Route {
  const [, set] = useState(0)
  useEffect(() => {
    const fn = () => set((n) => n + 1)
    listeners.add(fn)
    return () => {
      listeners.delete(fn)
    }
  }, [])
  return { path: location.pathname, query: new URLSearchParams(location.search) }
}

// withQuery gives the current path with some query parameters changed (undefined
// removes one).
export function withQuery(changes: Record<string, string | undefined>): string {
  const q = new URLSearchParams(location.search)
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) q.delete(k)
    else q.set(k, v)
  }
  const s = q.toString()
  return location.pathname + (s ? '?' + s : '')
}

interface LinkProps {
  href: string
  children?: ComponentChildren
  class?: string
  id?: string
  title?: string
  'aria-current'?: 'page' | 'true'
  'aria-label'?: string
}

// Link is an <a> that navigates inside the app (a modified click opens a new tab as usual).
export function Link({ href, children, ...rest }: LinkProps) {
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    e.preventDefault()
    navigate(href)
  }
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  )
}
