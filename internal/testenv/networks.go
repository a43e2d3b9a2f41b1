package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
)

// NetworkLabels is ContainerLabels for a test that also makes Docker networks: the
// labels go on its containers and on its networks, and both are removed when the
// test ends, the containers first (a network in use cannot go).
func NetworkLabels(t testing.TB, cli *client.Client) map[string]string {
	t.Helper()
	var labels map[string]string
	// Cleanups run last-registered first: the networks' is registered before the
	// containers' (inside ContainerLabels), so it runs after it.
	var value string
	CleanupNetworks(t, cli, func() string { return value })
	labels = ContainerLabels(t, cli)
	value = labels[TestLabel]
	return labels
}

// CleanupNetworks registers a t.Cleanup that removes every network labelled
// TestLabel=value(), whether the test passed or not.
func CleanupNetworks(t testing.TB, cli *client.Client, value func() string) {
	t.Helper()
	t.Cleanup(func() {
		v := value()
		if v == "" {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		list, err := cli.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("label", TestLabel+"="+v))})
		if err != nil {
			t.Errorf("cleanup: list networks labelled %s=%s: %v", TestLabel, v, err)
			return
		}
		for _, n := range list {
			if err := cli.NetworkRemove(ctx, n.ID); err != nil && !client.IsErrNotFound(err) {
				t.Errorf("cleanup: remove network %s: %v", n.Name, err)
			}
		}
	})
}
