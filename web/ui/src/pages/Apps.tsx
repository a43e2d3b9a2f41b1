import { useState } from 'preact/hooks'
import { api, errorText } from '../api'
import { ErrorMessage, Loading, StateBadge } from '../components/common'
import { useAsync, useLive } from '../hooks'
import { stateChange } from '../live'
import { Link } from '../router'

export function AppsPage() {
  const apps = useAsync(() => api.applications(), [])
  const [message, setMessage] = useState<{ text: string; error?: boolean }>()
  useLive(stateChange, apps.reload)

  const remove = async (id: string, name: string) => {
    if (!confirm(`Delete application ${name} (${id})? It is stopped and unmanaged.`)) return
    try {
      await api.deleteApp(id)
      setMessage({ text: `Deleting ${name}…` })
      apps.reload()
    } catch (e) {
      setMessage({ text: errorText(e), error: true })
    }
  }

  const list = apps.data ?? []
  return (
    <section class="page" aria-labelledby="apps-title">
      <header class="page-head">
        <h1 id="apps-title">Applications</h1>
        <Link class="button primary" href="/deploy">
          Deploy a blueprint
        </Link>
      </header>
      {message && (
        <p class={message.error ? 'error' : 'notice'} role="status">
          {message.text}
        </p>
      )}
      {apps.error !== undefined && <ErrorMessage error={apps.error} onRetry={apps.reload} />}
      {apps.data === undefined && apps.error === undefined && <Loading what="applications" />}
      {apps.data !== undefined && list.length === 0 && (
        <div class="empty">
          <p>No applications yet.</p>
          <p>
            <Link href="/deploy">Deploy a blueprint</Link> or pick a type in the <Link href="/catalog">catalog</Link>.
          </p>
        </div>
      )}
      {list.length > 0 && (
        <table class="grid" aria-label="Applications">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Id</th>
              <th scope="col">Type</th>
              <th scope="col">Locations</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list
              .slice()
              .sort((a, b) => a.spec.name.localeCompare(b.spec.name))
              .map((a) => (
                <tr key={a.id} data-app={a.id}>
                  <td>
                    <Link href={`/apps/${a.id}`} class="strong">
                      {a.spec.name}
                    </Link>
                  </td>
                  <td>
                    <StateBadge state={a.status} />
                  </td>
                  <td>
                    <code>{a.id}</code>
                  </td>
                  <td class="type" title={a.spec.type}>
                    {shortType(a.spec.type)}
                  </td>
                  <td>{a.spec.locations.join(', ')}</td>
                  <td class="actions">
                    <button type="button" class="danger small" onClick={() => remove(a.id, a.spec.name)} aria-label={`Delete ${a.spec.name}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
          </tbody>
        </table>
      )}
    </section>
  )
}

export function shortType(t?: string): string {
  if (!t) return ''
  const i = t.lastIndexOf('.')
  return i >= 0 && !t.includes(':') ? t.slice(i + 1) : t
}
