package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
)

func runEvents(c *cli, args []string) error {
	fs := c.flags()
	app := fs.String("app", "", "only events of this application (id or name; comma-separated for several)")
	entity := fs.String("entity", "", "only events of this entity (id or name; comma-separated for several)")
	typ := fs.String("type", "", "only events of these types (sensor.changed, task, task.ended, entity.added ...; comma-separated)")
	max := fs.Int("max", 0, "exit after this many events (0: until interrupted)")
	since := fs.String("since", "", "first replay the events after this event `id`, as far as the server still has them")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	filter := client.EventFilter{Apps: list(*app), Entities: list(*entity), Types: list(*typ)}
	n := 0
	err = cl.Events(c.ctx, filter, *since, func(e api.Event) error {
		if err := c.printEvent(e); err != nil {
			return err
		}
		if n++; *max > 0 && n >= *max {
			return client.ErrStopEvents
		}
		return nil
	})
	var ce *client.Error
	if errors.As(err, &ce) && ce.StatusCode == http.StatusNotFound && strings.HasPrefix(ce.Message, "no such resource") {
		return failedf("%s has no event stream (GET /v1/events answers 404): the server is older than this client", c.conn.url)
	}
	return err
}

// list splits a comma-separated flag value.
func list(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// printEvent prints one event: a line for a person, or one JSON object a line
// (-o json), or a YAML document (-o yaml).
func (c *cli) printEvent(e api.Event) error {
	switch c.output {
	case "json":
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.stdout, "%s\n", b)
		return err
	case "yaml":
		fmt.Fprintln(c.stdout, "---")
		return c.emit(e)
	}
	ts := time.UnixMilli(e.TimeUTC).Local().Format("15:04:05.000")
	who := e.EntityDisplayName
	if who == "" {
		who = e.EntityID
	}
	if e.ApplicationName != "" && e.ApplicationName != who {
		who = e.ApplicationName + "/" + who
	}
	var what string
	switch e.Type {
	case api.EventSensor:
		what = fmt.Sprintf("%s = %s", e.Sensor, cell(e.Value))
	case api.EventEntityAdded, api.EventEntityRemoved:
		what = shortType(e.EntityType, "")
	case api.EventTaskStarted, api.EventTaskEnded:
		if e.Task != nil {
			what = fmt.Sprintf("%s (%s)", e.Task.DisplayName, e.TaskID)
			if e.Type == api.EventTaskEnded {
				what += ": " + e.Task.CurrentStatus
				if e.Task.IsError {
					what += ": " + truncate(display(e.Task.Result), 200)
				}
			}
		} else {
			what = e.TaskID
		}
	case api.EventTaskProgress:
		what = fmt.Sprintf("%s %s: %s", e.TaskID, e.Stream, cell(strings.TrimRight(e.Text, "\n")))
	case api.EventHighlight:
		if e.Adjunct != nil {
			what = fmt.Sprintf("%s %s: %s", e.Adjunct.Name, e.Adjunct.Highlight, e.Adjunct.Description)
		}
	case api.EventReset:
		what = "events were lost: " + e.Text
	}
	_, err := fmt.Fprintf(c.stdout, "%s  %-17s  %s  %s\n", ts, e.Type, who, what)
	return err
}
