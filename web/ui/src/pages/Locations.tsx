import { api } from '../api'
import { ErrorMessage, Loading, Value } from '../components/common'
import { useAsync } from '../hooks'

export function LocationsPage() {
  const locs = useAsync(() => api.locations(), [])
  return (
    <section class="page" aria-labelledby="locations-title">
      <header class="page-head">
        <h1 id="locations-title">Locations</h1>
        <button type="button" onClick={locs.reload}>
          Refresh
        </button>
      </header>
      <p class="muted">
        Where entities run. Use a location's id (or spec) as <code>location:</code> in a blueprint.
      </p>
      {locs.error !== undefined && <ErrorMessage error={locs.error} onRetry={locs.reload} />}
      {!locs.data && locs.error === undefined && <Loading what="locations" />}
      {locs.data && locs.data.length === 0 && <p class="empty">No locations.</p>}
      {locs.data && locs.data.length > 0 && (
        <table class="grid" aria-label="Locations">
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Spec</th>
              <th scope="col">Config</th>
            </tr>
          </thead>
          <tbody>
            {locs.data.map((l) => (
              <tr key={l.id}>
                <td>
                  <code class="strong">{l.id}</code>
                </td>
                <td>{l.name}</td>
                <td>{l.type}</td>
                <td>
                  <code>{l.spec}</code>
                </td>
                <td>
                  {l.config && Object.keys(l.config).length > 0 ? (
                    <dl class="kv">
                      {Object.entries(l.config)
                        .sort(([a], [b]) => a.localeCompare(b))
                        .map(([k, v]) => (
                          <>
                            <dt>{k}</dt>
                            <dd>
                              <Value v={v} />
                            </dd>
                          </>
                        ))}
                    </dl>
                  ) : (
                    <span class="muted">none</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
