package entities

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
)

// ExternalProvider supplies the values of $brooklyn:external(provider, key), as
// Brooklyn's external config suppliers do (Vault, properties files...).
type ExternalProvider func(ctx context.Context, key string) (any, error)

var externals = struct {
	sync.RWMutex
	byName map[string]ExternalProvider
}{byName: map[string]ExternalProvider{"env": envProvider}}

// RegisterExternalProvider adds a provider under its name, from an init(). It panics on
// a duplicate: a clash is a programming error.
func RegisterExternalProvider(name string, p ExternalProvider) {
	externals.Lock()
	defer externals.Unlock()
	if _, dup := externals.byName[name]; dup {
		panic(fmt.Sprintf("entities: external provider %q registered twice", name))
	}
	externals.byName[name] = p
}

// ExternalProviders lists the names of the providers, sorted; "env" is built in.
func ExternalProviders() []string {
	externals.RLock()
	defer externals.RUnlock()
	return slices.Sorted(maps.Keys(externals.byName))
}

func external(ctx context.Context, provider, key string) (any, error) {
	externals.RLock()
	p, ok := externals.byName[provider]
	externals.RUnlock()
	if !ok {
		return nil, fmt.Errorf("external(%q, %q): unknown provider %q (providers: %s): %w", provider, key, provider, strings.Join(ExternalProviders(), ", "), ErrNotFound)
	}
	v, err := p(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("external(%q, %q): %w", provider, key, err)
	}
	return v, nil
}

// envProvider reads the server's environment.
func envProvider(_ context.Context, key string) (any, error) {
	v, ok := os.LookupEnv(key)
	if !ok {
		return nil, fmt.Errorf("%s is not set in the server's environment: %w", key, ErrNotFound)
	}
	return v, nil
}
