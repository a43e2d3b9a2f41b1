import { useEffect, useRef, useState } from 'preact/hooks'
import { api, type TaskSummary } from '../api'
import { useAsync, useInterval, useLive } from '../hooks'
import { Link, navigate, withQuery } from '../router'
import { ErrorMessage, Loading, StateBadge, Value, duration, time } from './common'
import { treeKeyDown } from './tree'

export function taskDone(t?: TaskSummary): boolean {
  if (!t) return false
  if ((t.endTimeUtc ?? 0) > 0 || t.isError || t.isCancelled) return true
  return ['Completed', 'Failed', 'Cancelled'].includes(t.currentStatus)
}

function status(t: TaskSummary): string {
  if (t.isCancelled) return 'Cancelled'
  if (t.isError) return 'Failed'
  if (taskDone(t)) return 'Completed'
  return t.currentStatus || 'In progress'
}

// A task began or ended: lists and trees of tasks change (output does not change them).
const taskBeganOrEnded = (ev: { kind: string }) => ev.kind === 'task.started' || ev.kind === 'task.ended'

const isTaskEvent = (entity: string) => (ev: { kind: string; entity?: string }) =>
  taskBeganOrEnded(ev) && (!ev.entity || ev.entity === entity)

// ActivitiesTab: the effector calls of an entity as task trees (newest first), and the
// selected task with its stdout and stderr, which stream while it runs.
export function ActivitiesTab({ app, entity, taskId }: { app: string; entity: string; taskId?: string }) {
  const acts = useAsync(() => api.activities(app, entity), [app, entity])
  useLive(isTaskEvent(entity), acts.reload)
  const list = acts.data ?? []
  const running = list.some((t) => !taskDone(t))
  useInterval(acts.reload, 1500, running)
  const ids = new Set(list.map((t) => t.id))
  // A task is a root here unless another task of this entity's list started it.
  const roots = list.filter((t) => !t.submittedByTask || !ids.has(t.submittedByTask.metadata.id))
  const [open, setOpen] = useState<Set<string>>(() => new Set(taskId ? [taskId] : []))
  const [focusId, setFocusId] = useState<string>()
  const selected = taskId ?? roots[0]?.id
  const select = (id: string) => navigate(withQuery({ tab: 'activities', task: id }), true)
  const toggle = (id: string, o: boolean) =>
    setOpen((s) => {
      const n = new Set(s)
      if (o) n.add(id)
      else n.delete(id)
      return n
    })

  return (
    <div class="activities">
      <div class="task-list">
        {acts.error !== undefined && <ErrorMessage error={acts.error} onRetry={acts.reload} />}
        {!acts.data && acts.error === undefined && <Loading what="activities" />}
        {acts.data && roots.length === 0 && <p class="muted">No activity yet. Effector calls show here.</p>}
        {roots.length > 0 && (
          <ul
            role="tree"
            aria-label="Activities"
            class="tree tasks"
            id="task-tree"
            onKeyDown={(ev) => treeKeyDown(ev, { toggle: (k, o) => toggle(k.split('/').pop()!, o), select: (k) => select(k.split('/').pop()!), focus: (k) => setFocusId(k) })}
            ref={(el) => {
              if (!el) return
              const all = Array.from(el.querySelectorAll<HTMLElement>('[role="treeitem"]'))
              const target = all.find((it) => it.dataset.key === focusId) ?? all.find((it) => it.getAttribute('aria-selected') === 'true') ?? all[0]
              all.forEach((it) => (it.tabIndex = it === target ? 0 : -1))
            }}
          >
            {roots.map((t) => (
              <TaskNode key={t.id} t={t} path={t.id} level={1} open={open} toggle={toggle} selected={selected} select={select} entity={entity} />
            ))}
          </ul>
        )}
      </div>
      <div class="task-pane">{selected ? <TaskDetail id={selected} app={app} /> : null}</div>
    </div>
  )
}

interface NodeProps {
  t: TaskSummary
  path: string
  level: number
  open: Set<string>
  toggle: (id: string, open: boolean) => void
  selected?: string
  select: (id: string) => void
  entity: string // the entity shown: tasks of others are tagged with their entity
}

function TaskNode({ t, path, level, open, toggle, selected, select, entity }: NodeProps) {
  const hasKids = t.children.length > 0
  const isOpen = hasKids && open.has(t.id)
  const kids = useAsync(() => (isOpen ? api.taskChildren(t.id) : Promise.resolve(undefined)), [t.id, isOpen, t.children.length, t.currentStatus])
  useLive((ev) => isOpen && taskBeganOrEnded(ev), kids.reload)
  const st = status(t)
  return (
    <li
      role="treeitem"
      data-key={path}
      data-task={t.id}
      aria-level={level}
      aria-expanded={hasKids ? isOpen : undefined}
      aria-selected={t.id === selected}
      aria-label={`${t.displayName}, ${st}`}
      class={t.id === selected ? 'selected' : undefined}
      tabIndex={-1}
      onClick={(ev) => {
        ev.stopPropagation()
        select(t.id)
      }}
    >
      <div class="tree-row" style={{ paddingLeft: `${(level - 1) * 14 + 4}px` }}>
        <span
          class={'twisty' + (hasKids ? '' : ' none')}
          aria-hidden="true"
          onClick={(ev) => {
            if (!hasKids) return
            ev.stopPropagation()
            toggle(t.id, !isOpen)
          }}
        >
          {hasKids ? (isOpen ? '▾' : '▸') : ''}
        </span>
        <StateBadge state={st} />
        <span class="tree-name">{t.displayName}</span>
        {t.entityDisplayName && t.entityId !== entity && <span class="tag">{t.entityDisplayName}</span>}
        <span class="tree-type">{time(t.submitTimeUtc)}</span>
      </div>
      {isOpen && kids.data && (
        <ul role="group">
          {kids.data.map((c) => (
            <TaskNode key={c.id} t={c} path={path + '/' + c.id} level={level + 1} open={open} toggle={toggle} selected={selected} select={select} entity={entity} />
          ))}
        </ul>
      )}
    </li>
  )
}

// TaskDetail follows one task: it polls the task every second until it ends, and its
// output streams whenever they grow.
export function TaskDetail({ id, app }: { id: string; app: string }) {
  const task = useAsync(() => api.task(id), [id])
  const t = task.data?.id === id ? task.data : undefined
  const done = taskDone(t)
  useInterval(task.reload, 1000, !!t && !done)
  useLive((ev) => ev.kind.startsWith('task') && (!ev.task || ev.task === id), task.reload)
  if (task.error !== undefined && !t) return <ErrorMessage error={task.error} onRetry={task.reload} />
  if (!t) return <Loading what="the task" />
  const st = status(t)
  const streams = ['stdout', 'stderr', 'env'].filter((s) => t.streams[s])
  return (
    <section class="task-detail" id="task-detail" data-task={t.id} data-status={st} aria-label={`Task ${t.displayName}`}>
      <header class="task-head">
        <h3>{t.displayName}</h3>
        <StateBadge state={st} />
      </header>
      {t.description && <p class="muted">{t.description}</p>}
      <dl class="props">
        <dt>Task</dt>
        <dd>
          <code>{t.id}</code>
        </dd>
        {t.entityId && (
          <>
            <dt>Entity</dt>
            <dd>
              <Link href={`/apps/${app}/entities/${t.entityId}?tab=activities&task=${t.id}`}>{t.entityDisplayName ?? t.entityId}</Link>
            </dd>
          </>
        )}
        <dt>Submitted</dt>
        <dd>{time(t.submitTimeUtc)}</dd>
        {t.startTimeUtc ? (
          <>
            <dt>{done ? 'Took' : 'Running for'}</dt>
            <dd>{duration(t.startTimeUtc, t.endTimeUtc)}</dd>
          </>
        ) : null}
        {t.submittedByTask && (
          <>
            <dt>Started by</dt>
            <dd>
              <Link href={withQuery({ tab: 'activities', task: t.submittedByTask.metadata.id })}>
                {t.submittedByTask.metadata.taskName ?? t.submittedByTask.metadata.id}
              </Link>
            </dd>
          </>
        )}
      </dl>
      {t.detailedStatus && <pre class={'status-text' + (t.isError ? ' bad' : '')}>{t.detailedStatus}</pre>}
      {done && t.result !== undefined && t.result !== null && !t.isError && (
        <div class="result">
          <strong>Result:</strong> <Value v={t.result} />
        </div>
      )}
      {t.children.length > 0 && (
        <>
          <h4>Steps</h4>
          <ol class="steps">
            {t.children.map((c) => (
              <li>
                <Link href={withQuery({ tab: 'activities', task: c.metadata.id })}>{c.metadata.taskName ?? c.metadata.id}</Link>
              </li>
            ))}
          </ol>
        </>
      )}
      {streams.map((s) => (
        <Stream key={id + s} task={id} name={s} size={t.streams[s].metadata.size} live={!done} />
      ))}
    </section>
  )
}

// Stream shows a task's captured output, fetched again whenever its size grows.
function Stream({ task, name, size, live }: { task: string; name: string; size: number; live: boolean }) {
  const [text, setText] = useState<string>()
  const [err, setErr] = useState<unknown>()
  const pre = useRef<HTMLPreElement>(null)
  const stick = useRef(true) // follow the end of the output unless scrolled up
  useEffect(() => {
    if (size === 0 && text === undefined) {
      setText('')
      return
    }
    let cancelled = false
    api.stream(task, name).then(
      (s) => !cancelled && setText(s),
      (e) => !cancelled && setErr(e),
    )
    return () => {
      cancelled = true
    }
  }, [task, name, size])
  useEffect(() => {
    const el = pre.current
    if (el && stick.current) el.scrollTop = el.scrollHeight
  }, [text])
  return (
    <div class="stream">
      <h4>
        {name} {live && <span class="streaming">streaming…</span>}
      </h4>
      {err !== undefined && <ErrorMessage error={err} />}
      <pre
        ref={pre}
        class={'output ' + name}
        data-stream={name}
        tabIndex={0}
        aria-label={name}
        onScroll={(e) => {
          const el = e.currentTarget
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24
        }}
      >
        {text === undefined ? '…' : text || <span class="muted">(empty)</span>}
      </pre>
    </div>
  )
}
