package catalog

// findCycle returns a cycle of a directed graph, next[i] listing the nodes i points to:
// the nodes of the cycle in order, each pointing to the one after it and the last to
// the first; nil when there is none. It looks from node 0 up, following edges in order,
// so that the same graph always gives the same cycle.
func findCycle(next [][]int) []int {
	const (
		unseen = iota
		open   // on the current path
		done   // fully explored, on no cycle reachable from here
	)
	state := make([]int, len(next))
	for root := range next {
		if state[root] != unseen {
			continue
		}
		// An explicit stack of (node, index of the next edge to follow).
		type frame struct{ node, edge int }
		path := []frame{{root, 0}}
		state[root] = open
		for len(path) > 0 {
			top := &path[len(path)-1]
			if top.edge == len(next[top.node]) {
				state[top.node] = done
				path = path[:len(path)-1]
				continue
			}
			to := next[top.node][top.edge]
			top.edge++
			if to < 0 || to >= len(next) {
				continue
			}
			switch state[to] {
			case open:
				var cycle []int
				for i := len(path) - 1; i >= 0; i-- {
					cycle = append(cycle, path[i].node)
					if path[i].node == to {
						break
					}
				}
				for i, j := 0, len(cycle)-1; i < j; i, j = i+1, j-1 {
					cycle[i], cycle[j] = cycle[j], cycle[i]
				}
				return cycle
			case unseen:
				state[to] = open
				path = append(path, frame{to, 0})
			}
		}
	}
	return nil
}
