// Keyboard navigation shared by the trees (entities, tasks), after the WAI-ARIA tree
// pattern: Up/Down move between visible items, Home/End to the ends, Right opens an item
// or goes to its first child, Left closes it or goes to its parent, Enter/Space selects.
// Focus is roving: the focused item has tabindex 0, the others -1.

export interface TreeHandlers {
  toggle: (key: string, open: boolean) => void
  select: (key: string) => void
  focus: (key: string) => void
}

function items(tree: HTMLElement): HTMLElement[] {
  return Array.from(tree.querySelectorAll<HTMLElement>('[role="treeitem"]'))
}

function move(el: HTMLElement | undefined, h: TreeHandlers) {
  if (!el) return
  const key = el.dataset.key
  if (key) h.focus(key)
  el.focus()
}

export function treeKeyDown(e: KeyboardEvent, h: TreeHandlers) {
  const tree = e.currentTarget as HTMLElement
  const item = (e.target as HTMLElement).closest<HTMLElement>('[role="treeitem"]')
  if (!item || !tree.contains(item) || (e.target as HTMLElement).closest('button, a, input, select, textarea') && e.key !== 'ArrowDown' && e.key !== 'ArrowUp')
    return
  if (e.altKey || e.ctrlKey || e.metaKey) return
  const all = items(tree)
  const i = all.indexOf(item)
  const key = item.dataset.key ?? ''
  const expanded = item.getAttribute('aria-expanded')
  switch (e.key) {
    case 'ArrowDown':
      move(all[i + 1], h)
      break
    case 'ArrowUp':
      move(all[i - 1], h)
      break
    case 'Home':
      move(all[0], h)
      break
    case 'End':
      move(all[all.length - 1], h)
      break
    case 'ArrowRight':
      if (expanded === 'false') h.toggle(key, true)
      else if (expanded === 'true') move(item.querySelector<HTMLElement>('[role="treeitem"]') ?? undefined, h)
      break
    case 'ArrowLeft':
      if (expanded === 'true') h.toggle(key, false)
      else move(item.parentElement?.closest<HTMLElement>('[role="treeitem"]') ?? undefined, h)
      break
    case 'Enter':
    case ' ':
      h.select(key)
      break
    default:
      return
  }
  e.preventDefault()
  e.stopPropagation()
}
