package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gantry-dev/gantry/api"
)

// Catalog

// AddCatalog posts a catalog BOM (brooklyn.catalog YAML) and returns what the server
// did: Code is INSTALLED_NEW_BUNDLE, UPDATED_EXISTING_BUNDLE or, when every item was
// there already, IGNORING_BUNDLE_AREADY_INSTALLED; Types has each item of the BOM by
// id:version. A BOM with mistakes is ErrBadRequest (the message gives line and
// column); a release version that would change is ErrConflict.
func (c *Client) AddCatalog(ctx context.Context, bom []byte) (*api.BundleInstallationResult, error) {
	p := urlPath("catalog")
	q := url.Values{"detail": {"true"}, "itemDetails": {"false"}}
	resp, err := c.do(ctx, call{method: http.MethodPost, path: p, query: q, body: bom, contentType: "application/x-yaml"})
	if err != nil {
		return nil, err
	}
	var res api.BundleInstallationResult
	if err := decode(p, resp.body, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// CatalogTypes lists the catalog's types, built-in ones included: the best version of
// each, or every version with allVersions.
func (c *Client) CatalogTypes(ctx context.Context, allVersions bool) ([]api.TypeSummary, error) {
	p := urlPath("catalog", "types")
	if allVersions {
		p += "?versions=all"
	}
	return get[[]api.TypeSummary](ctx, c, p)
}

// CatalogItems lists the items of a kind, "entities", "applications", "policies" or
// "locations", as `br catalog list` does: the best version of each, or every version
// with allVersions.
func (c *Client) CatalogItems(ctx context.Context, kind string, allVersions bool) ([]api.CatalogItemSummary, error) {
	p := urlPath("catalog", kind)
	if allVersions {
		p += "?allVersions=true"
	}
	return get[[]api.CatalogItemSummary](ctx, c, p)
}

// CatalogItem returns one item of a kind (see CatalogItems); version "" is the best.
// Entities come with the config keys, sensors and effectors of their type.
func (c *Client) CatalogItem(ctx context.Context, kind, id, version string) (*api.CatalogEntitySummary, error) {
	segments := []string{"catalog", kind, id}
	if version != "" {
		segments = append(segments, version)
	}
	return getOne[api.CatalogEntitySummary](ctx, c, urlPath(segments...))
}

// DeleteCatalogItem removes one version of an item of a kind (see CatalogItems).
func (c *Client) DeleteCatalogItem(ctx context.Context, kind, id, version string) error {
	_, err := c.do(ctx, call{method: http.MethodDelete, path: urlPath("catalog", kind, id, version)})
	return err
}
