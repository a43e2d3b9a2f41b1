package main

// Task trees: watching one as it progresses (deploy, start, stop, restart, delete),
// showing one, and following the output of its steps (activity --follow).

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
)

// pollInterval is how often a task tree is read while it runs.
const pollInterval = 200 * time.Millisecond

// taskNode is a task in a tree, in depth-first order.
type taskNode struct {
	t      api.TaskSummary
	depth  int
	parent *taskNode
}

// taskTree reads the tree of a task. Children of an ended task whose children have
// all ended are read once.
type taskTree struct {
	c     *client.Client
	ended map[string][]api.TaskSummary
}

func newTaskTree(c *client.Client) *taskTree {
	return &taskTree{c: c, ended: map[string][]api.TaskSummary{}}
}

// read gives the task and its descendants, depth first, each level in the order the
// tasks were submitted. The root is read first, so when it has ended so has the
// rest of what is read.
func (tt *taskTree) read(ctx context.Context, id string) ([]*taskNode, error) {
	root, err := tt.c.Activity(ctx, id)
	if err != nil {
		return nil, err
	}
	nodes := []*taskNode{{t: *root}}
	return tt.walk(ctx, nodes[0], nodes)
}

func (tt *taskTree) walk(ctx context.Context, n *taskNode, nodes []*taskNode) ([]*taskNode, error) {
	if len(n.t.Children) == 0 {
		return nodes, nil
	}
	kids, ok := tt.ended[n.t.ID]
	if !ok {
		var err error
		kids, err = tt.c.ActivityChildren(ctx, n.t.ID)
		if errors.Is(err, client.ErrNotFound) {
			return nodes, nil // gone since
		}
		if err != nil {
			return nil, err
		}
		slices.SortStableFunc(kids, func(a, b api.TaskSummary) int {
			return cmp.Or(cmp.Compare(a.SubmitTimeUTC, b.SubmitTimeUTC), cmp.Compare(a.StartTimeUTC, b.StartTimeUTC))
		})
		if n.t.Done() && !slices.ContainsFunc(kids, func(k api.TaskSummary) bool { return !k.Done() }) {
			tt.ended[n.t.ID] = kids
		}
	}
	for _, k := range kids {
		kn := &taskNode{t: k, depth: n.depth + 1, parent: n}
		nodes = append(nodes, kn)
		var err error
		if nodes, err = tt.walk(ctx, kn, nodes); err != nil {
			return nil, err
		}
	}
	return nodes, nil
}

// progress prints a task tree as it changes: a line when a step starts, another
// when it ends (one only for a step first seen ended), indented by depth.
type progress struct {
	out      io.Writer
	printed  map[string]int    // 1: its start, 2: its end
	blocking map[string]string // what a running step waited on when last printed
}

func newProgress(out io.Writer) *progress {
	return &progress{out: out, printed: map[string]int{}, blocking: map[string]string{}}
}

func (p *progress) update(nodes []*taskNode) {
	for i, n := range nodes {
		done := n.t.Done()
		switch st := p.printed[n.t.ID]; {
		case done && st < 2:
			fmt.Fprintln(p.out, taskLine(n, true, !childFailed(nodes, i)))
			p.printed[n.t.ID] = 2
		case !done && (st == 0 || p.blocking[n.t.ID] != n.t.BlockingDetails):
			// A step that starts, or whose wait changes ("waiting for a host").
			fmt.Fprintln(p.out, taskLine(n, false, false))
			p.printed[n.t.ID] = 1
			p.blocking[n.t.ID] = n.t.BlockingDetails
		}
	}
}

// childFailed says whether a child of nodes[i] failed (the tree is depth first).
func childFailed(nodes []*taskNode, i int) bool {
	for _, k := range nodes[i+1:] {
		if k.depth <= nodes[i].depth {
			return false
		}
		if k.depth == nodes[i].depth+1 && k.t.IsError {
			return true
		}
	}
	return false
}

// taskLine is one step: "▸ name [entity]" while it runs, "✓ name [entity] (1.2s)"
// or "✗ name [entity]: why" when it has ended (why only where it failed, not for
// the steps above, whose error repeats it). The entity is named when it is not the
// parent's.
func taskLine(n *taskNode, ended, why bool) string {
	var b strings.Builder
	b.WriteString(strings.Repeat("  ", n.depth))
	t := n.t
	switch {
	case !ended:
		b.WriteString("▸ ")
	case t.IsCancelled:
		b.WriteString("⊘ ")
	case t.IsError:
		b.WriteString("✗ ")
	default:
		b.WriteString("✓ ")
	}
	b.WriteString(taskLabel(t, n.parent == nil || n.parent.t.EntityID != t.EntityID))
	switch {
	case !ended:
		if t.BlockingDetails != "" {
			fmt.Fprintf(&b, ": %s", t.BlockingDetails)
		}
	case t.IsCancelled:
		b.WriteString(": cancelled")
	case t.IsError && why:
		fmt.Fprintf(&b, ": %s", truncate(display(t.Result), 200))
	default:
		if d := took(t.StartTimeUTC, t.EndTimeUTC); d != "" && d != "0s" {
			fmt.Fprintf(&b, " (%s)", d)
		}
	}
	return b.String()
}

// taskLabel names a task: "name [entity]".
func taskLabel(t api.TaskSummary, withEntity bool) string {
	if withEntity && t.EntityDisplayName != "" {
		return fmt.Sprintf("%s [%s]", t.DisplayName, t.EntityDisplayName)
	}
	return t.DisplayName
}

// watchTask prints the tree of a task of app until it ends and returns its last
// reading.
func (c *cli) watchTask(cl *client.Client, app, id string, out io.Writer) ([]*taskNode, error) {
	tt, p := newTaskTree(cl), newProgress(out)
	changed, stop := c.taskChanges(cl, app)
	defer stop()
	for {
		nodes, err := tt.read(c.ctx, id)
		if err != nil {
			return nil, err
		}
		p.update(nodes)
		if nodes[0].t.Done() {
			return nodes, nil
		}
		if err := wait(c.ctx, changed); err != nil {
			return nil, err
		}
	}
}

// safetyInterval bounds the wait for a change, in case an event was missed (one
// that came before the stream was connected).
const safetyInterval = 500 * time.Millisecond

// taskChanges gives a channel that receives when the tasks of app may have changed:
// at each task event of the server's event stream (GET /v1/events), or every
// pollInterval when the server has none. stop ends it.
func (c *cli) taskChanges(cl *client.Client, app string) (changed <-chan struct{}, stop func()) {
	ctx, cancel := context.WithCancel(c.ctx)
	ch := make(chan struct{}, 1)
	poke := func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	go func() {
		filter := client.EventFilter{Apps: []string{app}, Types: []string{"task"}}
		cl.Events(ctx, filter, "", func(api.Event) error { poke(); return nil })
		tick := time.NewTicker(pollInterval) // no stream (or it ended): poll
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				poke()
			}
		}
	}()
	return ch, cancel
}

// wait waits for a change, at most safetyInterval.
func wait(ctx context.Context, changed <-chan struct{}) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-changed:
	case <-time.After(safetyInterval):
	}
	return nil
}

// progressOut is where progress goes: standard output for a person, standard error
// when standard output carries JSON or YAML.
func (c *cli) progressOut() io.Writer {
	if c.structured() {
		return c.stderr
	}
	return c.stdout
}

// explainFailure prints the output of the steps where a failed tree failed: those in
// error none of whose children are.
func (c *cli) explainFailure(cl *client.Client, nodes []*taskNode, out io.Writer) {
	for i, n := range nodes {
		if !n.t.IsError || childFailed(nodes, i) {
			continue
		}
		for _, s := range []string{"stderr", "stdout"} {
			if n.t.Streams[s].Metadata.Size == 0 {
				continue
			}
			text, err := cl.Stream(c.ctx, n.t.ID, s)
			if err != nil || strings.TrimSpace(text) == "" {
				continue
			}
			fmt.Fprintf(out, "\n%s of %s (task %s):\n", s, taskLabel(n.t, true), n.t.ID)
			for _, line := range lastLines(text, 20) {
				fmt.Fprintf(out, "    %s\n", line)
			}
		}
	}
}

func lastLines(text string, n int) []string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return lines
}

// awaitTask watches a task of app started by a command, explains a failure, and
// says how it ended: nil when it succeeded.
func (c *cli) awaitTask(cl *client.Client, app, id, what string) (*api.TaskSummary, error) {
	out := c.progressOut()
	nodes, err := c.watchTask(cl, app, id, out)
	if errors.Is(err, context.Canceled) {
		return nil, &exitError{code: exitInterrupted, msg: fmt.Sprintf("interrupted: the task goes on on the server (gantry activity %s %s --follow)", app, id)}
	}
	if err != nil {
		return nil, err
	}
	root := nodes[0].t
	switch {
	case root.IsCancelled:
		return &root, failedf("%s was cancelled", what)
	case root.IsError:
		c.explainFailure(cl, nodes, out)
		return &root, failedf("%s failed: %s", what, display(root.Result))
	}
	return &root, nil
}

// follow prints the output of a task of app and its steps as it grows, until the
// task ends, as tail -f does for several files: a "==> step [entity] <==" line
// when the output comes from another step than the last.
func (c *cli) follow(cl *client.Client, app, id string, streams []string) (*api.TaskSummary, error) {
	tt := newTaskTree(cl)
	changed, stop := c.taskChanges(cl, app)
	defer stop()
	printed := map[string]int{}     // task/stream: bytes printed
	lastFrom := map[string]string{} // stream: the task it last printed
	for {
		nodes, err := tt.read(c.ctx, id)
		if err != nil {
			return nil, err
		}
		for _, n := range nodes {
			for _, s := range streams {
				key := n.t.ID + "/" + s
				link, ok := n.t.Streams[s]
				if !ok || link.Metadata.Size <= int64(printed[key]) {
					continue
				}
				text, err := cl.Stream(c.ctx, n.t.ID, s)
				if err != nil || len(text) <= printed[key] {
					continue
				}
				w := c.stdout
				if s == "stderr" {
					w = c.stderr
				}
				if lastFrom[s] != n.t.ID && (lastFrom[s] != "" || n.t.ID != id) {
					fmt.Fprintf(w, "==> %s <==\n", taskLabel(n.t, true))
				}
				io.WriteString(w, text[printed[key]:])
				printed[key] = len(text)
				lastFrom[s] = n.t.ID
			}
		}
		if nodes[0].t.Done() {
			root := nodes[0].t
			return &root, nil
		}
		if err := wait(c.ctx, changed); err != nil {
			return nil, err
		}
	}
}
