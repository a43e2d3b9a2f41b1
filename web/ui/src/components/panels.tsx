import { useRef, useState } from 'preact/hooks'
import { api, errorText, type EffectorSummary, type EntityDetail, type ParameterSummary, type TaskSummary } from '../api'
import { useAsync, useLive } from '../hooks'
import type { LiveEvent } from '../live'
import { Link, navigate, withQuery } from '../router'
import { ErrorMessage, Loading, StateBadge, Value, YamlView, formatValue, time } from './common'

interface EntityProps {
  app: string
  entity: string
  node?: EntityDetail
  byId?: Map<string, EntityDetail>
}

const aboutEntity = (entity: string) => (ev: LiveEvent) => !ev.entity || ev.entity === entity

// A sensor of the entity changed (or entities came or went).
const sensorOf = (entity: string) => (ev: LiveEvent) => aboutEntity(entity)(ev) && (ev.kind === 'sensor.changed' || ev.kind.startsWith('entity.'))

// Summary: state, problems, main.uri, location, and the blueprint that made the entity.
export function SummaryTab({ app, entity, node, byId }: EntityProps) {
  const sensors = useAsync(() => api.sensorValues(app, entity), [app, entity])
  const locs = useAsync(() => api.entityLocations(app, entity), [app, entity])
  const spec = useAsync(() => api.spec(app, entity), [app, entity])
  useLive(sensorOf(entity), sensors.reload)
  const s = sensors.data ?? {}
  const state = (s['service.state'] as string | undefined) ?? node?.serviceState
  const up = s['service.isUp']
  const problems = s['service.problems'] as Record<string, unknown> | undefined
  const notUp = s['service.notUp.indicators'] as Record<string, unknown> | undefined
  const uri = s['main.uri']
  const parent = node?.parentId ? byId?.get(node.parentId) : undefined
  const groups = (node?.groupIds ?? []).map((id) => byId?.get(id) ?? { id, name: id })
  return (
    <div class="summary">
      {sensors.error !== undefined && <ErrorMessage error={sensors.error} onRetry={sensors.reload} />}
      <dl class="props">
        <dt>State</dt>
        <dd>
          <StateBadge state={state} /> {up === true ? <span class="muted">up</span> : up === false ? <span class="muted">not up</span> : null}
        </dd>
        {uri !== undefined && uri !== null && (
          <>
            <dt>Main URI</dt>
            <dd>
              <Value v={uri} />
            </dd>
          </>
        )}
        <dt>Location</dt>
        <dd>
          {locs.error !== undefined ? (
            <ErrorMessage error={locs.error} />
          ) : !locs.data ? (
            '…'
          ) : locs.data.length === 0 ? (
            <span class="muted">none</span>
          ) : (
            locs.data.map((l) => (
              <span class="loc" title={l.spec}>
                <code>{l.id}</code> {l.name}
              </span>
            ))
          )}
          {s['host.address'] !== undefined && <span class="muted"> · host {formatValue(s['host.address'])}</span>}
        </dd>
        <dt>Type</dt>
        <dd>
          <code>{node?.type}</code>
          {node?.catalogItemId && <span class="muted"> from {node.catalogItemId}</span>}
        </dd>
        <dt>Id</dt>
        <dd>
          <code>{entity}</code>
        </dd>
        {parent && (
          <>
            <dt>Parent</dt>
            <dd>
              <Link href={`/apps/${app}/entities/${parent.id}`}>{parent.name}</Link>
            </dd>
          </>
        )}
        {groups.length > 0 && (
          <>
            <dt>Member of</dt>
            <dd>
              {groups.map((g) => (
                <Link href={`/apps/${app}/entities/${g.id}`} class="sep">
                  {g.name}
                </Link>
              ))}
            </dd>
          </>
        )}
        {node && node.members.length > 0 && (
          <>
            <dt>Members</dt>
            <dd>
              {node.members.map((m) => (
                <Link href={`/apps/${app}/entities/${m.id}`} class="sep">
                  {m.name}
                </Link>
              ))}
            </dd>
          </>
        )}
        {node?.creationTimeUtc && (
          <>
            <dt>Created</dt>
            <dd>{time(node.creationTimeUtc)}</dd>
          </>
        )}
      </dl>
      <Problems title="Problems" map={problems} />
      {state !== 'RUNNING' && <Problems title="Not up because" map={notUp} />}
      <h3>Blueprint</h3>
      {spec.error !== undefined && <ErrorMessage error={spec.error} onRetry={spec.reload} />}
      {spec.data !== undefined && (spec.data.trim() ? <YamlView doc={spec.data} /> : <p class="muted">No blueprint.</p>)}
    </div>
  )
}

function Problems({ title, map }: { title: string; map?: Record<string, unknown> }) {
  if (!map || typeof map !== 'object' || Object.keys(map).length === 0) return null
  return (
    <div class="problems-box" role="status">
      <h3>{title}</h3>
      <ul>
        {Object.entries(map).map(([k, v]) => (
          <li>
            <code>{k}</code>: {formatValue(v)}
          </li>
        ))}
      </ul>
    </div>
  )
}

// FlashTable is a name/value table whose changed values flash.
function useChanged(values: Record<string, unknown> | undefined): Set<string> {
  const prev = useRef<Record<string, string> | undefined>(undefined)
  const changed = new Set<string>()
  if (values) {
    const now: Record<string, string> = {}
    for (const [k, v] of Object.entries(values)) now[k] = JSON.stringify(v)
    if (prev.current) for (const k of Object.keys(now)) if (prev.current[k] !== now[k]) changed.add(k)
    prev.current = now
  }
  return changed
}

export function SensorsTab({ app, entity }: EntityProps) {
  const list = useAsync(() => api.sensors(app, entity), [app, entity])
  const values = useAsync(() => api.sensorValues(app, entity), [app, entity])
  const [filter, setFilter] = useState('')
  useLive(sensorOf(entity), () => {
    values.reload()
    list.reload()
  })
  const changed = useChanged(values.data)
  const desc = new Map((list.data ?? []).map((s) => [s.name, s]))
  const names = new Set([...desc.keys(), ...Object.keys(values.data ?? {})])
  const f = filter.toLowerCase()
  const rows = [...names].filter((n) => !f || n.toLowerCase().includes(f)).sort()
  return (
    <div>
      <div class="toolbar">
        <input type="search" placeholder="Filter sensors (/)" aria-label="Filter sensors" data-filter value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      </div>
      {(values.error ?? list.error) !== undefined && <ErrorMessage error={values.error ?? list.error} onRetry={values.reload} />}
      {!values.data && values.error === undefined && <Loading what="sensors" />}
      {values.data && (
        <table class="grid kvtable" aria-label="Sensors" id="sensors-table">
          <thead>
            <tr>
              <th scope="col">Sensor</th>
              <th scope="col">Value</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((n) => (
              <tr key={n} data-sensor={n} class={changed.has(n) ? 'changed' : undefined}>
                <th scope="row">
                  <code>{n}</code>
                </th>
                <td class="value">
                  <Value v={values.data?.[n]} />
                </td>
                <td class="muted">{desc.get(n)?.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  )
}

export function ConfigTab({ app, entity }: EntityProps) {
  const list = useAsync(() => api.config(app, entity), [app, entity])
  const values = useAsync(() => api.configValues(app, entity), [app, entity])
  const [filter, setFilter] = useState('')
  useLive((ev) => aboutEntity(entity)(ev) && ev.kind.startsWith('config'), values.reload)
  const byName = new Map((list.data ?? []).map((c) => [c.name, c]))
  const names = new Set([...byName.keys(), ...Object.keys(values.data ?? {})])
  const f = filter.toLowerCase()
  const rows = [...names].filter((n) => !f || n.toLowerCase().includes(f)).sort()
  return (
    <div>
      <div class="toolbar">
        <input type="search" placeholder="Filter config (/)" aria-label="Filter config" data-filter value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      </div>
      {(values.error ?? list.error) !== undefined && <ErrorMessage error={values.error ?? list.error} onRetry={values.reload} />}
      {!values.data && values.error === undefined && <Loading what="config" />}
      {values.data && (
        <table class="grid kvtable" aria-label="Config">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Value</th>
              <th scope="col">Type</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((n) => {
              const c = byName.get(n)
              const set = values.data && n in values.data
              return (
                <tr key={n}>
                  <th scope="row">
                    <code>{n}</code>
                  </th>
                  <td class="value">
                    {set ? (
                      <Value v={values.data?.[n]} />
                    ) : c?.defaultValue !== undefined ? (
                      <span class="muted" title="default">
                        {formatValue(c.defaultValue)} (default)
                      </span>
                    ) : (
                      <span class="muted">unset</span>
                    )}
                  </td>
                  <td class="muted">{c?.type.replace(/^java\.(lang|util)\./, '')}</td>
                  <td class="muted">{c?.description}</td>
                </tr>
              )
            })}
          </tbody>
        </table>
      )}
    </div>
  )
}

// isTask tells a task (202) from an effector's result (200).
function isTask(v: unknown): v is TaskSummary {
  return !!v && typeof v === 'object' && typeof (v as TaskSummary).id === 'string' && typeof (v as TaskSummary).currentStatus === 'string'
}

function paramKind(t: string): 'boolean' | 'number' | 'text' {
  const l = t.toLowerCase()
  if (l.includes('boolean')) return 'boolean'
  if (/integer|long|short|double|float|number|^int$/.test(l)) return 'number'
  return 'text'
}

function ParamInput({ p, id }: { p: ParameterSummary; id: string }) {
  const k = paramKind(p.type)
  const def = p.defaultValue === null || p.defaultValue === undefined ? '' : formatValue(p.defaultValue)
  if (k === 'boolean')
    return (
      <select id={id} name={p.name} aria-describedby={p.description ? id + '-d' : undefined}>
        <option value="">{def ? `default (${def})` : 'not given'}</option>
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    )
  return (
    <input
      id={id}
      name={p.name}
      type={(p.shouldSanitize ? 'password' : k === 'number' ? 'number' : 'text') as 'text'}
      step={k === 'number' ? 'any' : undefined}
      placeholder={def}
      aria-describedby={p.description ? id + '-d' : undefined}
    />
  )
}

function EffectorForm({ app, entity, eff }: { app: string; entity: string; eff: EffectorSummary }) {
  const [busy, setBusy] = useState(false)
  const [msg, setMsg] = useState<{ text: string; error?: boolean }>()
  const submit = async (ev: Event) => {
    ev.preventDefault()
    const form = ev.currentTarget as HTMLFormElement
    const params: Record<string, unknown> = {}
    for (const p of eff.parameters) {
      const el = form.elements.namedItem(p.name) as HTMLInputElement | HTMLSelectElement | null
      const raw = el?.value ?? ''
      if (raw === '') continue
      const k = paramKind(p.type)
      if (k === 'boolean') params[p.name] = raw === 'true'
      else if (k === 'number') params[p.name] = Number(raw)
      else if (/map|list|object/i.test(p.type) && /^\s*[[{]/.test(raw)) {
        try {
          params[p.name] = JSON.parse(raw)
        } catch {
          params[p.name] = raw
        }
      } else params[p.name] = raw
    }
    setBusy(true)
    setMsg(undefined)
    try {
      const res = await api.invoke(app, entity, eff.name, params)
      if (isTask(res)) {
        navigate(withQuery({ tab: 'activities', task: res.id }))
        return
      }
      setMsg({ text: `${eff.name} done${res !== undefined && res !== '' ? ': ' + formatValue(res) : ''}` })
    } catch (e) {
      setMsg({ text: errorText(e), error: true })
    } finally {
      setBusy(false)
    }
  }
  const fid = `eff-${eff.name}`
  return (
    <form class="effector" onSubmit={submit} data-effector={eff.name} aria-labelledby={fid}>
      <div class="effector-head">
        <h3 id={fid}>{eff.name}</h3>
        <span class="muted small">returns {eff.returnType}</span>
      </div>
      {eff.description && <p class="muted">{eff.description}</p>}
      {eff.parameters.length > 0 && (
        <div class="params">
          {eff.parameters.map((p) => {
            const id = `${fid}-${p.name}`
            return (
              <div class="param">
                <label for={id}>
                  <code>{p.name}</code> <span class="muted small">{p.type.replace(/^java\.(lang|util)\./, '')}</span>
                </label>
                <ParamInput p={p} id={id} />
                {p.description && (
                  <span id={id + '-d'} class="muted small">
                    {p.description}
                  </span>
                )}
              </div>
            )
          })}
        </div>
      )}
      <div class="toolbar">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Invoking…' : `Invoke ${eff.name}`}
        </button>
        {msg && (
          <span class={msg.error ? 'error inline-msg' : 'notice inline-msg'} role="status">
            {msg.text}
          </span>
        )}
      </div>
    </form>
  )
}

export function EffectorsTab({ app, entity }: EntityProps) {
  const effs = useAsync(() => api.effectors(app, entity), [app, entity])
  if (effs.error !== undefined) return <ErrorMessage error={effs.error} onRetry={effs.reload} />
  if (!effs.data) return <Loading what="effectors" />
  if (effs.data.length === 0) return <p class="muted">This entity has no effectors.</p>
  return (
    <div class="effectors">
      {effs.data.map((e) => (
        <EffectorForm key={e.name} app={app} entity={entity} eff={e} />
      ))}
    </div>
  )
}

export function PoliciesTab({ app, entity }: EntityProps) {
  const adj = useAsync(() => api.adjuncts(app, entity), [app, entity])
  const [msg, setMsg] = useState<{ text: string; error?: boolean }>()
  useLive((ev) => aboutEntity(entity)(ev) && /polic|adjunct|enricher/.test(ev.kind), adj.reload)
  const act = async (id: string, name: string, action: 'start' | 'stop') => {
    try {
      await api.adjunctAction(app, entity, id, action)
      setMsg({ text: `${action === 'start' ? 'Started' : 'Stopped'} ${name}` })
      adj.reload()
    } catch (e) {
      setMsg({ text: errorText(e), error: true })
    }
  }
  if (adj.error !== undefined && !adj.data) return <ErrorMessage error={adj.error} onRetry={adj.reload} />
  if (!adj.data) return <Loading what="policies" />
  return (
    <div>
      {msg && (
        <p class={msg.error ? 'error' : 'notice'} role="status">
          {msg.text}
        </p>
      )}
      {adj.data.length === 0 ? (
        <p class="muted">No policies or enrichers on this entity.</p>
      ) : (
        <table class="grid" aria-label="Policies and enrichers">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Kind</th>
              <th scope="col">State</th>
              <th scope="col">Last</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {adj.data.map((a) => {
              const running = a.state === 'RUNNING'
              const hl = Object.entries(a.highlights ?? {}).sort((x, y) => y[1].time - x[1].time)[0]
              return (
                <tr key={a.id} data-adjunct={a.id}>
                  <td>
                    <span class="strong">{a.name}</span>
                    {a.description && <div class="muted small">{a.description}</div>}
                    <div class="muted small">
                      <code>{a.id}</code>
                    </div>
                  </td>
                  <td>{a.adjunctType.toLowerCase()}</td>
                  <td>
                    <StateBadge state={a.state} />
                  </td>
                  <td class="small">
                    {hl ? (
                      <>
                        {hl[1].description} <span class="muted">{time(hl[1].time)}</span>
                      </>
                    ) : (
                      <span class="muted">—</span>
                    )}
                  </td>
                  <td class="actions">
                    <button type="button" class="small" onClick={() => act(a.id, a.name, running ? 'stop' : 'start')}>
                      {running ? 'Stop' : 'Start'}
                      <span class="sr-only"> {a.name}</span>
                    </button>
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
      )}
    </div>
  )
}
