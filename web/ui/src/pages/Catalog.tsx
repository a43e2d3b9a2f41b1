import { useMemo, useState } from 'preact/hooks'
import { api, type CatalogItemSummary, type TypeSummary } from '../api'
import { ErrorMessage, Loading } from '../components/common'
import { useAsync } from '../hooks'
import { Link, navigate, useRoute, withQuery } from '../router'

interface Entry {
  key: string
  symbolicName: string
  name: string
  kind: 'application' | 'entity' | 'policy' | 'enricher' | 'location' | 'other'
  versions: string[]
  description?: string
  bundle?: string
  aliases: string[]
  supertypes: string[]
  builtin: boolean
}

function kindOf(t: TypeSummary): Entry['kind'] {
  const s = t.supertypes ?? []
  if (s.includes('org.apache.brooklyn.api.entity.Application')) return 'application'
  if (s.includes('org.apache.brooklyn.api.entity.Entity')) return 'entity'
  if (s.includes('org.apache.brooklyn.api.policy.Policy')) return 'policy'
  if (s.includes('org.apache.brooklyn.api.location.Location')) return 'location'
  return 'other'
}

function cmpVersion(a: string, b: string): number {
  return b.localeCompare(a, undefined, { numeric: true })
}

function entries(types: TypeSummary[], policies: CatalogItemSummary[], enrichers: CatalogItemSummary[]): Entry[] {
  const by = new Map<string, Entry>()
  for (const t of types) {
    let e = by.get(t.symbolicName)
    if (!e) {
      e = {
        key: t.symbolicName,
        symbolicName: t.symbolicName,
        name: t.displayName || t.symbolicName,
        kind: kindOf(t),
        versions: [],
        description: t.description,
        bundle: t.containingBundle,
        aliases: t.aliases ?? [],
        supertypes: t.supertypes ?? [],
        builtin: t.containingBundle?.startsWith('gantry-core:') ?? false,
      }
      by.set(t.symbolicName, e)
    }
    e.versions.push(t.version)
  }
  const add = (items: CatalogItemSummary[], kind: 'policy' | 'enricher') => {
    for (const it of items) {
      const k = kind + ':' + it.symbolicName
      let e = by.get(it.symbolicName) ?? by.get(k)
      if (!e) {
        e = {
          key: k,
          symbolicName: it.symbolicName,
          name: it.name || it.symbolicName,
          kind,
          versions: [],
          description: it.description,
          bundle: it.containingBundle,
          aliases: [],
          supertypes: [],
          builtin: it.containingBundle?.startsWith('gantry-core:') ?? false,
        }
        by.set(k, e)
      }
      e.kind = kind
      if (!e.versions.includes(it.version)) e.versions.push(it.version)
    }
  }
  add(policies, 'policy')
  add(enrichers, 'enricher')
  const out = [...by.values()]
  out.forEach((e) => e.versions.sort(cmpVersion))
  return out.sort((a, b) => a.name.localeCompare(b.name))
}

// typeRef is how a blueprint names a type: a built-in by its short name, a catalog item
// by id:version.
function typeRef(e: Entry, version: string): string {
  if (e.builtin) return e.aliases[0] ?? e.symbolicName
  return `${e.symbolicName}:${version}`
}

const kinds: Entry['kind'][] = ['application', 'entity', 'policy', 'enricher', 'location', 'other']

export function CatalogPage() {
  const route = useRoute()
  const data = useAsync(
    () => Promise.all([api.types(), api.catalogAdjuncts('policies').catch(() => []), api.catalogAdjuncts('enrichers').catch(() => [])]),
    [],
  )
  const [filter, setFilter] = useState('')
  const [kind, setKind] = useState<string>('')
  const all = useMemo(() => (data.data ? entries(...data.data) : []), [data.data])
  const f = filter.trim().toLowerCase()
  const shown = all.filter(
    (e) =>
      (!kind || e.kind === kind) &&
      (!f || [e.name, e.symbolicName, e.description ?? '', ...e.aliases].some((s) => s.toLowerCase().includes(f))),
  )
  const selected = route.query.get('type')
  const sel = all.find((e) => e.key === selected)

  return (
    <section class="page catalog" aria-labelledby="catalog-title">
      <header class="page-head">
        <h1 id="catalog-title">Catalog</h1>
        <div class="filters">
          <input
            type="search"
            placeholder="Filter types (/)"
            aria-label="Filter types"
            data-filter
            value={filter}
            onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
          />
          <select aria-label="Kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)}>
            <option value="">all kinds</option>
            {kinds.map((k) => (
              <option value={k}>{k}</option>
            ))}
          </select>
        </div>
      </header>
      {data.error !== undefined && <ErrorMessage error={data.error} onRetry={data.reload} />}
      {!data.data && data.error === undefined && <Loading what="the catalog" />}
      <div class="split">
        <ul class="cards" aria-label="Catalog types">
          {shown.map((e) => (
            <li key={e.key} class={'card' + (e.key === selected ? ' selected' : '')}>
              <div class="card-head">
                <Link href={withQuery({ type: e.key })} class="strong" aria-current={e.key === selected ? 'true' : undefined}>
                  {e.name}
                </Link>
                <span class={'kind ' + e.kind}>{e.kind}</span>
              </div>
              <div class="muted small">
                <code>{e.symbolicName}</code> · {e.versions.map((v) => <span class="version">{v}</span>)}
              </div>
              {e.description && <p class="desc">{e.description}</p>}
              {(e.kind === 'entity' || e.kind === 'application') && (
                <button
                  type="button"
                  class="small"
                  onClick={() => navigate(`/deploy?type=${encodeURIComponent(typeRef(e, e.versions[0]))}&name=${encodeURIComponent(e.name)}`)}
                >
                  Deploy this
                </button>
              )}
            </li>
          ))}
          {data.data && shown.length === 0 && <li class="muted">Nothing matches.</li>}
        </ul>
        {sel && <TypeDetail e={sel} />}
      </div>
    </section>
  )
}

function TypeDetail({ e }: { e: Entry }) {
  const [version, setVersion] = useState(e.versions[0])
  const v = e.versions.includes(version) ? version : e.versions[0]
  const isEntity = e.kind === 'entity' || e.kind === 'application'
  const detail = useAsync(() => (isEntity ? api.catalogEntity(e.symbolicName, v) : Promise.resolve(undefined)), [e.key, v])
  const d = detail.data
  return (
    <aside class="detail" aria-label={`Type ${e.name}`}>
      <h2>{e.name}</h2>
      <dl class="props">
        <dt>Id</dt>
        <dd>
          <code>{e.symbolicName}</code>
        </dd>
        <dt>Version</dt>
        <dd>
          <select aria-label="Version" value={v} onChange={(ev) => setVersion((ev.target as HTMLSelectElement).value)}>
            {e.versions.map((x) => (
              <option value={x}>{x}</option>
            ))}
          </select>
        </dd>
        {e.bundle && (
          <>
            <dt>Bundle</dt>
            <dd>{e.bundle}</dd>
          </>
        )}
        {e.aliases.length > 0 && (
          <>
            <dt>Aliases</dt>
            <dd>{e.aliases.join(', ')}</dd>
          </>
        )}
        {e.supertypes.length > 0 && (
          <>
            <dt>Supertypes</dt>
            <dd>{e.supertypes.join(', ')}</dd>
          </>
        )}
      </dl>
      {(d?.description ?? e.description) && <p>{d?.description ?? e.description}</p>}
      {isEntity && (
        <button
          type="button"
          class="primary"
          onClick={() => navigate(`/deploy?type=${encodeURIComponent(typeRef(e, v))}&name=${encodeURIComponent(e.name)}`)}
        >
          Deploy this
        </button>
      )}
      {detail.error !== undefined && <ErrorMessage error={detail.error} />}
      {d?.config && d.config.length > 0 && (
        <>
          <h3>Config keys</h3>
          <table class="grid compact">
            <tbody>
              {d.config.map((c) => (
                <tr>
                  <td>
                    <code>{c.name}</code>
                  </td>
                  <td class="muted">{c.type.replace(/^java\.(lang|util)\./, '')}</td>
                  <td>{c.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {d?.effectors && d.effectors.length > 0 && (
        <>
          <h3>Effectors</h3>
          <ul>
            {d.effectors.map((x) => (
              <li>
                <code>{x.name}</code> {x.description}
              </li>
            ))}
          </ul>
        </>
      )}
      {d?.sensors && d.sensors.length > 0 && (
        <>
          <h3>Sensors</h3>
          <ul>
            {d.sensors.map((x) => (
              <li>
                <code>{x.name}</code> {x.description}
              </li>
            ))}
          </ul>
        </>
      )}
    </aside>
  )
}
