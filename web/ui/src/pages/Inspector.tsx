import { useEffect, useRef } from 'preact/hooks'
import { ApiError, api, type EntityDetail } from '../api'
import { ActivitiesTab } from '../components/Activities'
import { EntityTree, index } from '../components/EntityTree'
import { ErrorMessage, Loading, StateBadge } from '../components/common'
import { ConfigTab, EffectorsTab, PoliciesTab, SensorsTab, SummaryTab } from '../components/panels'
import { useAsync, useLive } from '../hooks'
import { stateChange } from '../live'
import { Link, navigate, useRoute } from '../router'
import { shortType } from './Apps'

export const tabs = [
  { id: 'summary', label: 'Summary' },
  { id: 'sensors', label: 'Sensors' },
  { id: 'config', label: 'Config' },
  { id: 'effectors', label: 'Effectors' },
  { id: 'policies', label: 'Policies' },
  { id: 'activities', label: 'Activities' },
] as const

// loadTree fetches the application's tree; an unknown application is the server's 404.
async function loadTree(app: string): Promise<EntityDetail> {
  const [root] = await api.tree(app)
  if (root) return root
  await api.application(app) // throws the server's "no such application"
  throw new ApiError(`Application ${app} has no entities`, 404)
}

export function InspectorPage({ app, entity }: { app: string; entity?: string }) {
  const route = useRoute()
  const tree = useAsync(() => loadTree(app), [app])
  useLive((ev) => (!ev.app || ev.app === app || ev.app === tree.data?.id) && stateChange(ev), tree.reload)
  const root = tree.data
  const byId = root ? index(root) : new Map<string, EntityDetail>()
  const selected = entity ?? root?.id ?? ''
  const node = byId.get(selected)
  const tab = route.query.get('tab') ?? 'summary'
  const task = route.query.get('task') ?? undefined

  const select = (id: string) => {
    const q = new URLSearchParams()
    if (tab !== 'summary') q.set('tab', tab)
    const qs = q.toString()
    navigate(`/apps/${encodeURIComponent(app)}/entities/${encodeURIComponent(id)}${qs ? '?' + qs : ''}`)
  }

  if (!root) {
    return (
      <section class="page">
        <p class="crumbs">
          <Link href="/">Applications</Link> › <code>{app}</code>
        </p>
        {tree.error !== undefined ? <ErrorMessage error={tree.error} onRetry={tree.reload} /> : <Loading what="the application" />}
      </section>
    )
  }
  return (
    <div class="inspector">
      <nav class="tree-pane" aria-label="Application tree">
        <p class="crumbs">
          <Link href="/">Applications</Link> ›
        </p>
        <h1 class="app-title">
          {root.name} <StateBadge state={root.serviceState} />
        </h1>
        {tree.error !== undefined && <ErrorMessage error={tree.error} onRetry={tree.reload} />}
        <EntityTree root={root} selected={selected} onSelect={select} />
      </nav>
      <section class="entity-pane" aria-labelledby="entity-title">
        {node ? (
          <EntityPanel app={root.id} node={node} byId={byId} tab={tab} task={task} />
        ) : (
          <ErrorMessage error={new Error(`No entity ${selected} in application ${root.name}: it may have been removed.`)} />
        )}
      </section>
    </div>
  )
}

function EntityPanel({ app, node, byId, tab, task }: { app: string; node: EntityDetail; byId: Map<string, EntityDetail>; tab: string; task?: string }) {
  const tabRefs = useRef<Record<string, HTMLButtonElement | null>>({})
  const current = tabs.some((t) => t.id === tab) ? tab : 'summary'
  const go = (id: string, focus = false) => {
    const q = new URLSearchParams()
    if (id !== 'summary') q.set('tab', id)
    const qs = q.toString()
    navigate(location.pathname + (qs ? '?' + qs : ''), true)
    if (focus) tabRefs.current[id]?.focus()
  }
  useEffect(() => {
    // Numbers 1-6 switch tabs (outside text fields): see the shortcuts (?).
    const onKey = (e: KeyboardEvent) => {
      if (e.altKey || e.ctrlKey || e.metaKey || isTyping(e.target)) return
      const n = Number(e.key)
      if (n >= 1 && n <= tabs.length) {
        e.preventDefault()
        go(tabs[n - 1].id, true)
      }
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [])
  const onTabKey = (e: KeyboardEvent) => {
    const i = tabs.findIndex((t) => t.id === current)
    let j = -1
    if (e.key === 'ArrowRight') j = (i + 1) % tabs.length
    else if (e.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length
    else if (e.key === 'Home') j = 0
    else if (e.key === 'End') j = tabs.length - 1
    if (j < 0) return
    e.preventDefault()
    go(tabs[j].id, true)
  }
  const props = { app, entity: node.id, node, byId }
  return (
    <>
      <header class="entity-head">
        <h2 id="entity-title">
          {node.name} <StateBadge state={node.serviceState ?? (node.serviceUp ? 'RUNNING' : undefined)} />
        </h2>
        <div class="muted small">
          {shortType(node.type)} · <code>{node.id}</code>
        </div>
      </header>
      <div role="tablist" aria-label="Entity views" class="tabs" onKeyDown={onTabKey}>
        {tabs.map((t, i) => (
          <button
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={t.id === current}
            aria-controls="tabpanel"
            tabIndex={t.id === current ? 0 : -1}
            ref={(el) => {
              tabRefs.current[t.id] = el
            }}
            onClick={() => go(t.id)}
            title={`${t.label} (${i + 1})`}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="tabpanel" aria-labelledby={`tab-${current}`} class="tabpanel" tabIndex={0}>
        {current === 'summary' && <SummaryTab key={node.id} {...props} />}
        {current === 'sensors' && <SensorsTab key={node.id} {...props} />}
        {current === 'config' && <ConfigTab key={node.id} {...props} />}
        {current === 'effectors' && <EffectorsTab key={node.id} {...props} />}
        {current === 'policies' && <PoliciesTab key={node.id} {...props} />}
        {current === 'activities' && <ActivitiesTab key={node.id} app={app} entity={node.id} taskId={task} />}
      </div>
    </>
  )
}

export function isTyping(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null
  if (!el) return false
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName) || !!el.closest?.('.cm-editor')
}
