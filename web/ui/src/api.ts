// The REST API v1 (api/ROUTES.md): a small typed client. Every failure becomes an
// ApiError with the server's message, so that pages can show it instead of going blank.

export interface BlueprintProblem {
  line: number
  column: number
  path?: string
  message: string
}

export class ApiError extends Error {
  status: number
  problems: BlueprintProblem[]
  constructor(message: string, status: number, problems: BlueprintProblem[] = []) {
    super(message)
    this.status = status
    this.problems = problems
  }
}

export interface ApplicationSummary {
  id: string
  spec: { name: string; type?: string; locations: string[] }
  status: string
  links: Record<string, string>
}

export interface EntitySummary {
  id: string
  name: string
  type: string
  catalogItemId?: string
  links: Record<string, string>
}

export interface EntityDetail extends EntitySummary {
  applicationId: string
  parentId?: string
  children?: EntityDetail[]
  groupIds: string[]
  members: { id: string; name: string }[]
  serviceUp: boolean | null
  serviceState?: string
  creationTimeUtc?: number
}

export interface SensorSummary {
  name: string
  type: string
  description?: string
}

export interface ConfigSummary {
  name: string
  type: string
  defaultValue?: unknown
  description?: string
  label?: string
}

export interface ParameterSummary {
  name: string
  type: string
  description?: string
  defaultValue: unknown
  shouldSanitize?: boolean
}

export interface EffectorSummary {
  name: string
  returnType: string
  parameters: ParameterSummary[]
  description?: string
}

export interface TaskLink {
  link: string
  metadata: { id: string; taskName?: string; entityId?: string; entityDisplayName?: string }
}

export interface TaskSummary {
  id: string
  displayName: string
  description: string
  entityId?: string
  entityDisplayName?: string
  tags: unknown[]
  submitTimeUtc?: number
  startTimeUtc?: number
  endTimeUtc?: number
  currentStatus: string
  result?: unknown
  isError: boolean
  isCancelled: boolean
  children: TaskLink[]
  submittedByTask?: TaskLink
  detailedStatus?: string
  streams: Record<string, { link: string; metadata: { name: string; size: number; sizeText?: string } }>
  links: Record<string, string>
}

export interface AdjunctSummary {
  id: string
  name: string
  adjunctType: 'POLICY' | 'ENRICHER' | 'FEED'
  catalogItemId?: string
  description?: string
  state: string
  highlights?: Record<string, { description: string; time: number; taskId?: string }>
}

export interface LocationSummary {
  id: string
  name: string
  spec: string
  type: string
  config?: Record<string, unknown>
}

export interface TypeSummary {
  symbolicName: string
  version: string
  containingBundle: string
  kind: string
  displayName?: string
  description?: string
  aliases?: string[]
  supertypes?: string[]
  tags?: unknown[]
  deprecated?: boolean
  disabled?: boolean
}

export interface CatalogItemSummary {
  id: string
  symbolicName: string
  version: string
  containingBundle?: string
  type: string
  itemType: string
  name: string
  description?: string
  planYaml: string
  deprecated: boolean
}

export interface CatalogEntitySummary extends CatalogItemSummary {
  config?: ConfigSummary[]
  sensors?: SensorSummary[]
  effectors?: EffectorSummary[]
}

// Credentials for a server with users: HTTP Basic, kept for the browser tab only.
// Requests carry them in an Authorization header and never ask the browser for its
// own (credentials: 'omit'), so that a 401 comes to the UI, which shows its login
// dialog, instead of the browser's prompt.
const authKey = 'gantry.auth'

function basicHeader(user: string, password: string): string {
  return 'Basic ' + btoa(unescape(encodeURIComponent(user + ':' + password)))
}

// primeBrowser gives the browser the credentials with an XMLHttpRequest that carries
// them (they are known to be right: no prompt): the browser then sends them on /v1 by
// itself, which the event stream needs, since an EventSource cannot set headers.
function primeBrowser(user: string, password: string): Promise<void> {
  return new Promise((resolve) => {
    const x = new XMLHttpRequest()
    x.open('GET', '/v1/server/version', true, user, password)
    x.onloadend = () => resolve()
    x.send()
  })
}

// login checks a user and password and keeps them; it throws the server's refusal.
export async function login(user: string, password: string): Promise<void> {
  const header = basicHeader(user, password)
  await request('GET', '/v1/server/version', undefined, undefined, 'application/json', header)
  sessionStorage.setItem(authKey, JSON.stringify({ user, password }))
  await primeBrowser(user, password)
}

// restoreLogin gives the browser again the credentials kept for this tab (after a
// reload, or a restart of the browser that restored the tab).
export async function restoreLogin(): Promise<void> {
  const c = credentials()
  if (c) await primeBrowser(c.user, c.password)
}

export function logout() {
  sessionStorage.removeItem(authKey)
}

function credentials(): { user: string; password: string } | undefined {
  try {
    const c = JSON.parse(sessionStorage.getItem(authKey) ?? '')
    if (typeof c?.user === 'string' && typeof c?.password === 'string') return c
  } catch {
    /* none */
  }
  return undefined
}

export function hasCredentials(): boolean {
  return !!credentials()
}

// Listeners told when the server answers 401, so that the app can ask to log in.
const unauthorized = new Set<() => void>()
export function onUnauthorized(fn: () => void): () => void {
  unauthorized.add(fn)
  return () => unauthorized.delete(fn)
}

async function request(
  method: string,
  path: string,
  body?: BodyInit,
  contentType?: string,
  accept = 'application/json',
  auth?: string,
): Promise<Response> {
  const headers: Record<string, string> = { Accept: accept, 'X-Requested-With': 'XMLHttpRequest' }
  if (contentType) headers['Content-Type'] = contentType
  const c = credentials()
  auth ??= c ? basicHeader(c.user, c.password) : undefined
  if (auth) headers['Authorization'] = auth
  let resp: Response
  try {
    resp = await fetch(path, { method, headers, body, credentials: 'omit' })
  } catch (e) {
    throw new ApiError(`Cannot reach the Gantry server (${method} ${path}): ${(e as Error).message}`, 0)
  }
  if (resp.ok) return resp
  let message = `${resp.status} ${resp.statusText}`
  let problems: BlueprintProblem[] = []
  const text = await resp.text().catch(() => '')
  try {
    const j = JSON.parse(text)
    if (j && typeof j.message === 'string') message = j.message
    if (j && Array.isArray(j.data)) problems = j.data.filter((p: BlueprintProblem) => typeof p?.line === 'number')
  } catch {
    if (text.trim()) message = `${message}: ${text.trim().slice(0, 500)}`
  }
  if (resp.status === 401) {
    if (!auth || auth === (c && basicHeader(c.user, c.password))) unauthorized.forEach((fn) => fn())
    message = `Not logged in (401): ${message}`
  } else if (resp.status === 403) {
    message = `Not allowed (403): ${message}`
  }
  throw new ApiError(message, resp.status, problems)
}

async function json<T>(method: string, path: string, body?: BodyInit, contentType?: string): Promise<T> {
  const resp = await request(method, path, body, contentType)
  const text = await resp.text()
  if (!text) return undefined as T
  try {
    return JSON.parse(text) as T
  } catch {
    return text as unknown as T
  }
}

async function text(path: string): Promise<string> {
  const resp = await request('GET', path, undefined, undefined, 'text/plain, */*')
  return resp.text()
}

const enc = encodeURIComponent
const entityPath = (app: string, entity: string) => `/v1/applications/${enc(app)}/entities/${enc(entity)}`

export const api = {
  applications: () => json<ApplicationSummary[]>('GET', '/v1/applications'),
  application: (app: string) => json<ApplicationSummary>('GET', `/v1/applications/${enc(app)}`),
  tree: (app: string) => json<EntityDetail[]>('GET', `/v1/applications/fetch?items=${enc(app)}`),
  deploy: (yaml: string) => json<TaskSummary>('POST', '/v1/applications', yaml, 'application/x-yaml'),
  deleteApp: (app: string) => json<TaskSummary>('DELETE', `/v1/applications/${enc(app)}`),
  entity: (app: string, e: string) => json<EntitySummary>('GET', entityPath(app, e)),
  spec: (app: string, e: string) => text(entityPath(app, e) + '/spec'),
  entityLocations: (app: string, e: string) => json<LocationSummary[]>('GET', entityPath(app, e) + '/locations'),
  sensors: (app: string, e: string) => json<SensorSummary[]>('GET', entityPath(app, e) + '/sensors'),
  sensorValues: (app: string, e: string) => json<Record<string, unknown>>('GET', entityPath(app, e) + '/sensors/current-state'),
  config: (app: string, e: string) => json<ConfigSummary[]>('GET', entityPath(app, e) + '/config'),
  configValues: (app: string, e: string) => json<Record<string, unknown>>('GET', entityPath(app, e) + '/config/current-state'),
  effectors: (app: string, e: string) => json<EffectorSummary[]>('GET', entityPath(app, e) + '/effectors'),
  // Answers at once (timeout=0) with the task, which the activities view follows.
  invoke: (app: string, e: string, name: string, params: Record<string, unknown>) =>
    json<TaskSummary | string>('POST', `${entityPath(app, e)}/effectors/${enc(name)}?timeout=0`, JSON.stringify(params), 'application/json'),
  adjuncts: (app: string, e: string) => json<AdjunctSummary[]>('GET', entityPath(app, e) + '/adjuncts'),
  adjunctAction: (app: string, e: string, id: string, action: 'start' | 'stop') =>
    json<void>('POST', `${entityPath(app, e)}/adjuncts/${enc(id)}/${action}`),
  activities: (app: string, e: string) => json<TaskSummary[]>('GET', entityPath(app, e) + '/activities'),
  task: (id: string) => json<TaskSummary>('GET', `/v1/activities/${enc(id)}`),
  taskChildren: (id: string) => json<TaskSummary[]>('GET', `/v1/activities/${enc(id)}/children`),
  stream: (id: string, name: string) => text(`/v1/activities/${enc(id)}/stream/${enc(name)}`),
  locations: () => json<LocationSummary[]>('GET', '/v1/locations'),
  types: () => json<TypeSummary[]>('GET', '/v1/catalog/types'),
  catalogEntity: (name: string, version: string) =>
    json<CatalogEntitySummary>('GET', `/v1/catalog/entities/${enc(name)}/${enc(version)}`),
  catalogAdjuncts: (kind: 'policies' | 'enrichers') => json<CatalogItemSummary[]>('GET', `/v1/catalog/${kind}`),
  version: () => json<{ version: string }>('GET', '/v1/server/version'),
}

// errorText gives the message of anything thrown.
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message
  return String(e)
}
