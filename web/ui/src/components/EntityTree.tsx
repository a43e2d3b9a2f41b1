import { useEffect, useState } from 'preact/hooks'
import type { EntityDetail } from '../api'
import { shortType } from '../pages/Apps'
import { Dot } from './common'
import { treeKeyDown } from './tree'

interface Props {
  root: EntityDetail
  selected: string // entity id
  onSelect: (id: string) => void
}

// index maps every entity of the tree by id.
export function index(root: EntityDetail): Map<string, EntityDetail> {
  const m = new Map<string, EntityDetail>()
  const walk = (e: EntityDetail) => {
    m.set(e.id, e)
    e.children?.forEach(walk)
  }
  walk(root)
  return m
}

// pathTo gives the keys of the items above an entity, to open them.
function pathTo(root: EntityDetail, id: string): string[] {
  const out: string[] = []
  const walk = (e: EntityDetail, key: string): boolean => {
    if (e.id === id) return true
    for (const c of e.children ?? []) {
      if (walk(c, key + '/' + c.id)) {
        out.unshift(key)
        return true
      }
    }
    return false
  }
  walk(root, root.id)
  return out
}

// EntityTree shows an application's entities: children nested under their parents, and
// under a group its members that are not its children (they live elsewhere in the tree).
export function EntityTree({ root, selected, onSelect }: Props) {
  const [closed, setClosed] = useState<Set<string>>(new Set())
  const [focusKey, setFocusKey] = useState<string>()
  const byId = index(root)

  // Keep the selected entity visible.
  useEffect(() => {
    const above = pathTo(root, selected)
    if (above.some((k) => closed.has(k))) setClosed((c) => new Set([...c].filter((k) => !above.includes(k))))
  }, [selected, root])

  const toggle = (key: string, open: boolean) =>
    setClosed((c) => {
      const n = new Set(c)
      if (open) n.delete(key)
      else n.add(key)
      return n
    })

  let firstSelectedKey: string | undefined
  const render = (e: EntityDetail, key: string, level: number, member = false) => {
    const kids = e.children ?? []
    const childIds = new Set(kids.map((k) => k.id))
    const others = member ? [] : e.members.filter((m) => !childIds.has(m.id))
    const memberIds = new Set(e.members.map((m) => m.id))
    const hasKids = !member && (kids.length > 0 || others.length > 0)
    const open = hasKids && !closed.has(key)
    const isSel = e.id === selected && !member
    if (isSel && !firstSelectedKey) firstSelectedKey = key
    return (
      <li
        role="treeitem"
        key={key}
        data-key={key}
        data-id={e.id}
        data-name={e.name}
        aria-level={level}
        aria-expanded={hasKids ? open : undefined}
        aria-selected={isSel}
        aria-label={`${e.name}${member ? ' (member)' : ''}, ${e.serviceState ?? (e.serviceUp ? 'up' : 'state unknown')}`}
        tabIndex={-1}
        class={isSel ? 'selected' : undefined}
        onClick={(ev) => {
          ev.stopPropagation()
          setFocusKey(key)
          onSelect(e.id)
        }}
      >
        <div class="tree-row" style={{ paddingLeft: `${(level - 1) * 14 + 4}px` }}>
          <span
            class={'twisty' + (hasKids ? '' : ' none')}
            aria-hidden="true"
            onClick={(ev) => {
              if (!hasKids) return
              ev.stopPropagation()
              toggle(key, !open)
            }}
          >
            {hasKids ? (open ? '▾' : '▸') : ''}
          </span>
          <Dot state={e.serviceState} up={e.serviceUp} />
          <span class="tree-name">{e.name}</span>
          {member && <span class="tag">member</span>}
          {!member && memberIds.size > 0 && (
            <span class="tag" title={`${memberIds.size} members`}>
              {memberIds.size} m.
            </span>
          )}
          {!member && <span class="tree-type">{shortType(e.type)}</span>}
        </div>
        {open && (
          <ul role="group">
            {kids.map((c) => render(c, key + '/' + c.id, level + 1))}
            {others.map((m) => {
              const node = byId.get(m.id) ?? ({ id: m.id, name: m.name, type: '', members: [], children: [], groupIds: [], serviceUp: null } as unknown as EntityDetail)
              return render(node, key + '>' + m.id, level + 1, true)
            })}
          </ul>
        )}
      </li>
    )
  }

  const tree = render(root, root.id, 1)
  const tabKey = focusKey ?? firstSelectedKey ?? root.id
  return (
    <ul
      role="tree"
      aria-label="Entities"
      class="tree"
      id="entity-tree"
      onKeyDown={(ev) => treeKeyDown(ev, { toggle, select: (k) => onSelect(idOfKey(k)), focus: setFocusKey })}
      ref={(el) => {
        // roving tabindex: only one item is in the tab order
        if (!el) return
        const all = Array.from(el.querySelectorAll<HTMLElement>('[role="treeitem"]'))
        const target = all.find((it) => it.dataset.key === tabKey) ?? all.find((it) => it.getAttribute('aria-selected') === 'true') ?? all[0]
        all.forEach((it) => (it.tabIndex = it === target ? 0 : -1))
      }}
    >
      {tree}
    </ul>
  )
}

function idOfKey(key: string): string {
  const parts = key.split(/[/>]/)
  return parts[parts.length - 1]
}
