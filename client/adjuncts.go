package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gantry-dev/gantry/api"
)

// Policies (Brooklyn's policy routes, the ones br calls)

// Policies lists the policies of an entity, sorted by name.
func (c *Client) Policies(ctx context.Context, app, entity string) ([]api.PolicySummary, error) {
	return get[[]api.PolicySummary](ctx, c, entityPath(app, entity, "policies"))
}

// AddPolicy attaches a policy of the given type (a registered kind, by name or alias,
// or a catalog item of type policy) to an entity and starts it.
func (c *Client) AddPolicy(ctx context.Context, app, entity, policyType string, config map[string]any) (*api.PolicySummary, error) {
	return addAdjunct[api.PolicySummary](ctx, c, entityPath(app, entity, "policies"), policyType, config)
}

// PolicyStatus returns a policy's status: RUNNING or STOPPED.
func (c *Client) PolicyStatus(ctx context.Context, app, entity, policy string) (api.Status, error) {
	return get[api.Status](ctx, c, entityPath(app, entity, "policies", policy))
}

// StartPolicy starts (resumes) a policy.
func (c *Client) StartPolicy(ctx context.Context, app, entity, policy string) error {
	return c.postEmpty(ctx, entityPath(app, entity, "policies", policy, "start"))
}

// StopPolicy stops (suspends) a policy.
func (c *Client) StopPolicy(ctx context.Context, app, entity, policy string) error {
	return c.postEmpty(ctx, entityPath(app, entity, "policies", policy, "stop"))
}

// DestroyPolicy stops a policy and removes it from its entity.
func (c *Client) DestroyPolicy(ctx context.Context, app, entity, policy string) error {
	return c.postEmpty(ctx, entityPath(app, entity, "policies", policy, "destroy"))
}

// PolicyConfig lists the config keys of a policy.
func (c *Client) PolicyConfig(ctx context.Context, app, entity, policy string) ([]api.PolicyConfigSummary, error) {
	return get[[]api.PolicyConfigSummary](ctx, c, entityPath(app, entity, "policies", policy, "config"))
}

// PolicyConfigValues returns every config value of a policy as display text, by key.
func (c *Client) PolicyConfigValues(ctx context.Context, app, entity, policy string) (map[string]any, error) {
	return get[map[string]any](ctx, c, entityPath(app, entity, "policies", policy, "config", "current-state"))
}

// PolicyConfigValue returns one config value of a policy as display text ("30s",
// "5"); "" when the key is declared but unset. An unknown key is ErrNotFound.
func (c *Client) PolicyConfigValue(ctx context.Context, app, entity, policy, key string) (string, error) {
	return c.text(ctx, entityPath(app, entity, "policies", policy, "config", key))
}

// SetPolicyConfig changes one config value of a policy; a running policy takes it at
// once. A value the key or the policy refuses is ErrBadRequest.
func (c *Client) SetPolicyConfig(ctx context.Context, app, entity, policy, key string, v any) error {
	_, err := c.postJSON(ctx, entityPath(app, entity, "policies", policy, "config", key), v)
	return err
}

// Adjuncts (policies and enrichers, Brooklyn's adjunct routes)

// Adjuncts lists the policies and enrichers of an entity; adjunctType "policy",
// "enricher" or "feed" keeps those, "" lists all.
func (c *Client) Adjuncts(ctx context.Context, app, entity, adjunctType string) ([]api.AdjunctSummary, error) {
	path := entityPath(app, entity, "adjuncts")
	if adjunctType == "" {
		return get[[]api.AdjunctSummary](ctx, c, path)
	}
	var out []api.AdjunctSummary
	resp, err := c.do(ctx, call{method: http.MethodGet, path: path, query: url.Values{"adjunctType": {adjunctType}}})
	if err != nil {
		return nil, err
	}
	return out, decode(path, resp.body, &out)
}

// AddAdjunct attaches a policy or enricher of the given type to an entity and starts it.
func (c *Client) AddAdjunct(ctx context.Context, app, entity, adjunctType string, config map[string]any) (*api.AdjunctDetail, error) {
	return addAdjunct[api.AdjunctDetail](ctx, c, entityPath(app, entity, "adjuncts"), adjunctType, config)
}

// Adjunct returns a policy or enricher of an entity, by id or name, with its config.
func (c *Client) Adjunct(ctx context.Context, app, entity, adjunct string) (*api.AdjunctDetail, error) {
	return getOne[api.AdjunctDetail](ctx, c, entityPath(app, entity, "adjuncts", adjunct))
}

// AdjunctStatus returns an adjunct's status: RUNNING or STOPPED.
func (c *Client) AdjunctStatus(ctx context.Context, app, entity, adjunct string) (api.Status, error) {
	return get[api.Status](ctx, c, entityPath(app, entity, "adjuncts", adjunct, "status"))
}

// StartAdjunct starts (resumes) a policy or enricher.
func (c *Client) StartAdjunct(ctx context.Context, app, entity, adjunct string) error {
	return c.postEmpty(ctx, entityPath(app, entity, "adjuncts", adjunct, "start"))
}

// StopAdjunct stops (suspends) a policy or enricher.
func (c *Client) StopAdjunct(ctx context.Context, app, entity, adjunct string) error {
	return c.postEmpty(ctx, entityPath(app, entity, "adjuncts", adjunct, "stop"))
}

// DestroyAdjunct stops a policy or enricher and removes it (DELETE, as Brooklyn).
func (c *Client) DestroyAdjunct(ctx context.Context, app, entity, adjunct string) error {
	_, err := c.do(ctx, call{method: http.MethodDelete, path: entityPath(app, entity, "adjuncts", adjunct)})
	return err
}

// AdjunctConfig lists the config keys of an adjunct.
func (c *Client) AdjunctConfig(ctx context.Context, app, entity, adjunct string) ([]api.ConfigSummary, error) {
	return get[[]api.ConfigSummary](ctx, c, entityPath(app, entity, "adjuncts", adjunct, "config"))
}

// AdjunctConfigValues returns every config value of an adjunct as display text, by key.
func (c *Client) AdjunctConfigValues(ctx context.Context, app, entity, adjunct string) (map[string]any, error) {
	return get[map[string]any](ctx, c, entityPath(app, entity, "adjuncts", adjunct, "config-current"))
}

// AdjunctConfigValue returns one config value of an adjunct as display text; "" when
// the key is declared but unset.
func (c *Client) AdjunctConfigValue(ctx context.Context, app, entity, adjunct, key string) (string, error) {
	return c.text(ctx, entityPath(app, entity, "adjuncts", adjunct, "config", key))
}

// SetAdjunctConfig changes one config value of an adjunct.
func (c *Client) SetAdjunctConfig(ctx context.Context, app, entity, adjunct, key string, v any) error {
	_, err := c.postJSON(ctx, entityPath(app, entity, "adjuncts", adjunct, "config", key), v)
	return err
}

// AdjunctActivities lists the tasks an adjunct started (the effectors a policy
// invoked), newest first.
func (c *Client) AdjunctActivities(ctx context.Context, app, entity, adjunct string) ([]api.TaskSummary, error) {
	return get[[]api.TaskSummary](ctx, c, entityPath(app, entity, "adjuncts", adjunct, "activities"))
}

// addAdjunct posts ?type= with the config as a JSON map ({} when none), as Brooklyn's
// own tests call it.
func addAdjunct[T any](ctx context.Context, c *Client, path, typ string, config map[string]any) (*T, error) {
	if config == nil {
		config = map[string]any{}
	}
	b, err := jsonBody(path, config)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, call{method: http.MethodPost, path: path, query: url.Values{"type": {typ}}, body: b, contentType: "application/json"})
	if err != nil {
		return nil, err
	}
	var out T
	if err := decode(path, resp.body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// postEmpty posts nothing, as br does for start, stop and destroy.
func (c *Client) postEmpty(ctx context.Context, path string) error {
	_, err := c.do(ctx, call{method: http.MethodPost, path: path})
	return err
}

// text returns a body as it is ("" for 204).
func (c *Client) text(ctx context.Context, path string) (string, error) {
	resp, err := c.do(ctx, call{method: http.MethodGet, path: path, accept: "text/plain, application/json"})
	if err != nil {
		return "", err
	}
	return string(resp.body), nil
}
