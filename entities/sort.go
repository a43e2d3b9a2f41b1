package entities

import (
	"slices"
)

func sortByCreated(es []*Entity) {
	slices.SortStableFunc(es, func(a, b *Entity) int { return a.created.Compare(b.created) })
}

func sortTasks(ts []*Task) {
	slices.SortStableFunc(ts, func(a, b *Task) int { return a.submitted.Compare(b.submitted) })
}
