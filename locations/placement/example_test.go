package placement_test

import (
	"errors"
	"fmt"

	"github.com/gantry-dev/gantry/locations/placement"
)

func ExamplePlace() {
	// docker.container.strategies: [{type: max-containers, max: 2}, {type: breadth-first}]
	chain, err := placement.ParseStrategies([]any{
		map[string]any{"type": "max-containers", "max": 2},
		map[string]any{"type": "breadth-first"},
	})
	if err != nil {
		panic(err)
	}
	hosts := []placement.Host{{ID: "h1", Up: true}, {ID: "h2", Up: true}, {ID: "h3", Up: true}}
	for i := 1; i <= 7; i++ {
		req := placement.Request{ID: fmt.Sprintf("web-%d", i), App: "shop"}
		d, err := placement.Place(hosts, req, chain)
		if errors.Is(err, placement.ErrNoFit) {
			fmt.Println(err)
			break
		}
		for j := range hosts {
			if hosts[j].ID == d.HostID {
				hosts[j].Containers = append(hosts[j].Containers, req.Placed())
			}
		}
		fmt.Println(req.ID, "->", d.HostID)
	}
	// Output:
	// web-1 -> h1
	// web-2 -> h2
	// web-3 -> h3
	// web-4 -> h1
	// web-5 -> h2
	// web-6 -> h3
	// no host fits request "web-7": max-containers 2: all 3 hosts full
}
