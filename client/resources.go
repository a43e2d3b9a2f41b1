package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gantry-dev/gantry/api"
)

// Applications

// Deploy posts a YAML blueprint and returns the start task of the new
// application; its EntityID is the application id.
func (c *Client) Deploy(ctx context.Context, yaml []byte) (*api.TaskSummary, error) {
	p := urlPath("applications")
	resp, err := c.do(ctx, call{method: http.MethodPost, path: p, body: yaml, contentType: "application/x-yaml"})
	if err != nil {
		return nil, err
	}
	return decodeTask(p, resp.body)
}

// Applications lists the applications.
func (c *Client) Applications(ctx context.Context) ([]api.ApplicationSummary, error) {
	return get[[]api.ApplicationSummary](ctx, c, urlPath("applications"))
}

// Application returns one application, by id or name.
func (c *Client) Application(ctx context.Context, app string) (*api.ApplicationSummary, error) {
	return getOne[api.ApplicationSummary](ctx, c, urlPath("applications", app))
}

// DeleteApplication stops and removes an application, returning the task doing it.
func (c *Client) DeleteApplication(ctx context.Context, app string) (*api.TaskSummary, error) {
	p := urlPath("applications", app)
	resp, err := c.do(ctx, call{method: http.MethodDelete, path: p})
	if err != nil {
		return nil, err
	}
	return decodeTask(p, resp.body)
}

// Descendants lists every entity of an application below it.
func (c *Client) Descendants(ctx context.Context, app string) ([]api.EntitySummary, error) {
	return get[[]api.EntitySummary](ctx, c, urlPath("applications", app, "descendants"))
}

// FetchApplications returns the tree of every application, as `br tree` reads it.
func (c *Client) FetchApplications(ctx context.Context) ([]api.EntityDetail, error) {
	return get[[]api.EntityDetail](ctx, c, urlPath("applications", "fetch"))
}

// Entities

// Entities lists the top-level entities of an application (its children).
func (c *Client) Entities(ctx context.Context, app string) ([]api.EntitySummary, error) {
	return get[[]api.EntitySummary](ctx, c, urlPath("applications", app, "entities"))
}

// Entity returns one entity, by id or name; the application itself is an entity too.
func (c *Client) Entity(ctx context.Context, app, entity string) (*api.EntitySummary, error) {
	return getOne[api.EntitySummary](ctx, c, entityPath(app, entity))
}

// Children lists the children of an entity.
func (c *Client) Children(ctx context.Context, app, entity string) ([]api.EntitySummary, error) {
	return get[[]api.EntitySummary](ctx, c, entityPath(app, entity, "children"))
}

// Rename sets an entity's display name.
func (c *Client) Rename(ctx context.Context, app, entity, name string) error {
	_, err := c.do(ctx, call{method: http.MethodPost, path: entityPath(app, entity, "name"), query: url.Values{"name": {name}}})
	return err
}

// EntitySpec returns the YAML the entity was made from, or "" when the server has none.
func (c *Client) EntitySpec(ctx context.Context, app, entity string) (string, error) {
	resp, err := c.do(ctx, call{method: http.MethodGet, path: entityPath(app, entity, "spec"), accept: "application/x-yaml, text/plain"})
	return string(resp.body), err
}

// Sensors

// Sensors lists the sensors an entity declares or has values for.
func (c *Client) Sensors(ctx context.Context, app, entity string) ([]api.SensorSummary, error) {
	return get[[]api.SensorSummary](ctx, c, entityPath(app, entity, "sensors"))
}

// SensorValues returns every sensor value of an entity, by sensor name.
func (c *Client) SensorValues(ctx context.Context, app, entity string) (map[string]any, error) {
	return get[map[string]any](ctx, c, entityPath(app, entity, "sensors", "current-state"))
}

// Sensor returns one sensor value as decoded JSON; nil when the sensor is known but
// unset (204). An unknown sensor is ErrNotFound.
func (c *Client) Sensor(ctx context.Context, app, entity, name string) (any, error) {
	resp, err := c.do(ctx, call{method: http.MethodGet, path: entityPath(app, entity, "sensors", name)})
	if err != nil {
		return nil, err
	}
	return value(resp.body), nil
}

// SetSensor sets a sensor value.
func (c *Client) SetSensor(ctx context.Context, app, entity, name string, v any) error {
	_, err := c.postJSON(ctx, entityPath(app, entity, "sensors", name), v)
	return err
}

// Config

// Config lists the config keys of an entity.
func (c *Client) Config(ctx context.Context, app, entity string) ([]api.ConfigSummary, error) {
	return get[[]api.ConfigSummary](ctx, c, entityPath(app, entity, "config"))
}

// ConfigValues returns every config value of an entity, by key.
func (c *Client) ConfigValues(ctx context.Context, app, entity string) (map[string]any, error) {
	return get[map[string]any](ctx, c, entityPath(app, entity, "config", "current-state"))
}

// ConfigValue returns one config value as decoded JSON; nil when unset.
func (c *Client) ConfigValue(ctx context.Context, app, entity, key string) (any, error) {
	resp, err := c.do(ctx, call{method: http.MethodGet, path: entityPath(app, entity, "config", key)})
	if err != nil {
		return nil, err
	}
	return value(resp.body), nil
}

// SetConfig sets a config value.
func (c *Client) SetConfig(ctx context.Context, app, entity, key string, v any) error {
	_, err := c.postJSON(ctx, entityPath(app, entity, "config", key), v)
	return err
}

// Effectors

// Effectors lists the effectors of an entity.
func (c *Client) Effectors(ctx context.Context, app, entity string) ([]api.EffectorSummary, error) {
	return get[[]api.EffectorSummary](ctx, c, entityPath(app, entity, "effectors"))
}

// InvokeEffector calls an effector with JSON parameters. timeout is Brooklyn's:
// "" or "never" waits for the result, "0" returns at once, "30s" waits that long.
// A finished call (200) gives the result: decoded JSON, or the text itself when
// the body is not JSON (Brooklyn sends string results unquoted), nil for none.
// A call still running (202) gives its task instead.
func (c *Client) InvokeEffector(ctx context.Context, app, entity, name string, params map[string]any, timeout string) (any, *api.TaskSummary, error) {
	if params == nil {
		params = map[string]any{}
	}
	p := entityPath(app, entity, "effectors", name)
	var q url.Values
	if timeout != "" {
		q = url.Values{"timeout": {timeout}}
	}
	body, err := jsonBody(p, params)
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.do(ctx, call{method: http.MethodPost, path: p, query: q, body: body, contentType: "application/json"})
	if err != nil {
		return nil, nil, err
	}
	if resp.status == http.StatusAccepted {
		t, err := decodeTask(p, resp.body)
		return nil, t, err
	}
	return value(resp.body), nil, nil
}

// Activities

// Activities lists the tasks of an entity.
func (c *Client) Activities(ctx context.Context, app, entity string) ([]api.TaskSummary, error) {
	return get[[]api.TaskSummary](ctx, c, entityPath(app, entity, "activities"))
}

// Activity returns a task as it is now, running or done.
func (c *Client) Activity(ctx context.Context, taskID string) (*api.TaskSummary, error) {
	return c.activity(ctx, taskID, nil)
}

func (c *Client) activity(ctx context.Context, taskID string, q url.Values) (*api.TaskSummary, error) {
	p := urlPath("activities", taskID)
	resp, err := c.do(ctx, call{method: http.MethodGet, path: p, query: q})
	if err != nil {
		return nil, err
	}
	return decodeTask(p, resp.body)
}

// ActivityChildren lists the sub-tasks of a task.
func (c *Client) ActivityChildren(ctx context.Context, taskID string) ([]api.TaskSummary, error) {
	return get[[]api.TaskSummary](ctx, c, urlPath("activities", taskID, "children"))
}

// Stream returns a captured stream of a task: "stdout", "stderr", "stdin" or "env".
func (c *Client) Stream(ctx context.Context, taskID, stream string) (string, error) {
	resp, err := c.do(ctx, call{method: http.MethodGet, path: urlPath("activities", taskID, "stream", stream), accept: "text/plain"})
	return string(resp.body), err
}

// WaitTask returns the task once it has ended, successfully or not (check IsError),
// or the context's error. Each poll asks the server to hold the request until the
// task ends, for up to 5s (Brooklyn's ?timeout=); polls are at least the poll
// interval apart, so a server that answers at once is not hammered.
func (c *Client) WaitTask(ctx context.Context, taskID string) (*api.TaskSummary, error) {
	for {
		start := time.Now()
		t, err := c.activity(ctx, taskID, url.Values{"timeout": {"5s"}})
		if err != nil {
			return nil, err
		}
		if t.Done() {
			return t, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for task %s: %w", taskID, ctx.Err())
		case <-time.After(c.pollInterval - time.Since(start)):
		}
	}
}

// Locations and server

// Locations lists the defined locations.
func (c *Client) Locations(ctx context.Context) ([]api.LocationSummary, error) {
	return get[[]api.LocationSummary](ctx, c, urlPath("locations"))
}

// Location returns a defined location or a location instance, by id.
func (c *Client) Location(ctx context.Context, id string) (*api.LocationSummary, error) {
	return getOne[api.LocationSummary](ctx, c, urlPath("locations", id))
}

// Version returns the server's version.
func (c *Client) Version(ctx context.Context) (*api.VersionSummary, error) {
	return getOne[api.VersionSummary](ctx, c, urlPath("server", "version"))
}

// Up reports whether the server has started and is serving.
func (c *Client) Up(ctx context.Context) (bool, error) {
	return get[bool](ctx, c, urlPath("server", "up"))
}

// Healthy reports whether the server is up and has no errors.
func (c *Client) Healthy(ctx context.Context) (bool, error) {
	return get[bool](ctx, c, urlPath("server", "healthy"))
}
