package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
)

func runActivity(c *cli, args []string) error {
	fs := c.flags()
	follow := fs.Bool("follow", false, "print the output of the task and its steps as it comes, until the task ends (the newest task when none is named)")
	fs.BoolVar(follow, "f", false, "same as --follow")
	stdout := fs.Bool("stdout", false, "print the task's standard output (with --follow: only that)")
	stderr := fs.Bool("stderr", false, "print the task's standard error (with --follow: only that)")
	args, err := c.parse(fs, args, 1, 3)
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	app, entity, taskID := args[0], args[0], ""
	switch len(args) {
	case 2:
		// APP ENTITY or APP TASK: an entity when there is one of that name or id.
		_, err := cl.Entity(c.ctx, app, args[1])
		switch {
		case err == nil:
			entity = args[1]
		case errors.Is(err, client.ErrNotFound):
			if _, terr := cl.Activity(c.ctx, args[1]); terr != nil {
				return &exitError{code: exitNotFound, msg: fmt.Sprintf("no entity or task %q in application %s", args[1], app)}
			}
			taskID = args[1]
		default:
			return err
		}
	case 3:
		entity, taskID = args[1], args[2]
	}
	if taskID == "" && *follow {
		acts, err := cl.Activities(c.ctx, app, entity)
		if err != nil {
			return err
		}
		if len(acts) == 0 {
			return &exitError{code: exitNotFound, msg: fmt.Sprintf("%s has no activity to follow", entity)}
		}
		newest := slices.MaxFunc(acts, func(a, b api.TaskSummary) int { return cmp.Compare(a.SubmitTimeUTC, b.SubmitTimeUTC) })
		taskID = newest.ID
	}
	if taskID == "" {
		if *stdout || *stderr {
			return usageErrorf("activity: --stdout and --stderr need a task")
		}
		return c.listActivities(cl, app, entity)
	}
	var streams []string
	if *stdout {
		streams = append(streams, "stdout")
	}
	if *stderr {
		streams = append(streams, "stderr")
	}
	if *follow {
		if streams == nil {
			streams = []string{"stdout", "stderr"}
		}
		t, err := c.follow(cl, app, taskID, streams)
		if err != nil {
			return err
		}
		switch {
		case t.IsCancelled:
			return failedf("task %s (%s) was cancelled", t.ID, t.DisplayName)
		case t.IsError:
			return failedf("task %s (%s) failed: %s", t.ID, t.DisplayName, display(t.Result))
		}
		return nil
	}
	if streams != nil {
		return c.printStreams(cl, taskID, streams)
	}
	return c.showTask(cl, taskID)
}

func (c *cli) listActivities(cl *client.Client, app, entity string) error {
	acts, err := cl.Activities(c.ctx, app, entity)
	if err != nil {
		return err
	}
	if c.structured() {
		return c.emit(acts)
	}
	t := c.table("ID", "NAME", "ENTITY", "STATUS", "SUBMITTED", "DURATION")
	for _, a := range acts {
		t.row(a.ID, a.DisplayName, a.EntityDisplayName, a.CurrentStatus, when(a.SubmitTimeUTC), took(a.StartTimeUTC, a.EndTimeUTC))
	}
	return t.flush()
}

// printStreams prints the captured streams of one task, as they are now.
func (c *cli) printStreams(cl *client.Client, taskID string, streams []string) error {
	t, err := cl.Activity(c.ctx, taskID)
	if err != nil {
		return err
	}
	for _, s := range streams {
		if _, ok := t.Streams[s]; !ok {
			continue
		}
		text, err := cl.Stream(c.ctx, taskID, s)
		if err != nil {
			return err
		}
		w := c.stdout
		if s == "stderr" && len(streams) > 1 {
			w = c.stderr
		}
		io.WriteString(w, text)
	}
	return nil
}

func (c *cli) showTask(cl *client.Client, taskID string) error {
	nodes, err := newTaskTree(cl).read(c.ctx, taskID)
	if err != nil {
		return err
	}
	t := nodes[0].t
	if c.structured() {
		return c.emit(t)
	}
	var streams []string
	for _, s := range []string{"stdout", "stderr", "stdin", "env"} {
		if l, ok := t.Streams[s]; ok {
			streams = append(streams, fmt.Sprintf("%s %s", s, l.Metadata.SizeText))
		}
	}
	entity := t.EntityDisplayName
	if t.EntityID != "" {
		entity += " (" + t.EntityID + ")"
	}
	var by string
	if t.SubmittedByTask != nil {
		by = t.SubmittedByTask.Metadata.ID
	}
	var result any
	if t.Done() && !t.IsError {
		result = t.Result
	}
	if err := c.fields(
		field{"ID", t.ID},
		field{"Name", t.DisplayName},
		field{"Description", t.Description},
		field{"Entity", entity},
		field{"Status", t.CurrentStatus},
		field{"Submitted", when(t.SubmitTimeUTC)},
		field{"Started", when(t.StartTimeUTC)},
		field{"Ended", when(t.EndTimeUTC)},
		field{"Duration", took(t.StartTimeUTC, t.EndTimeUTC)},
		field{"Submitted by", by},
		field{"Blocked on", t.BlockingDetails},
		field{"Streams", strings.Join(streams, ", ")},
		field{"Result", result},
	); err != nil {
		return err
	}
	if t.IsError && t.DetailedStatus != "" {
		fmt.Fprintf(c.stdout, "\n%s\n", strings.TrimSpace(t.DetailedStatus))
	}
	if len(nodes) > 1 {
		fmt.Fprintln(c.stdout, "\nSteps:")
		p := newProgress(c.stdout)
		p.update(nodes)
	}
	return nil
}
