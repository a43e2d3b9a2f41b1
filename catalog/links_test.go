package catalog

import (
	"errors"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/blueprints"
)

func TestLinksAreChecked(t *testing.T) {
	ok := `
location: docker
services:
- type: docker:gantry/busybox
  id: db
- type: docker:gantry/busybox
  name: cache
- type: docker:gantry/busybox
  links: [db, "cache:redis"]
- type: docker:gantry/busybox
  brooklyn.config:
    docker.container.links: {database: db, other: $brooklyn:component("db")}
`
	if _, err := resolve(t, ok); err != nil {
		t.Errorf("good links: %v", err)
	}
	_, err := resolve(t, `
location: docker
services:
- type: docker:gantry/busybox
  id: db
- type: docker:gantry/busybox
  links: [dbb]
`)
	if !errors.Is(err, blueprints.ErrInvalid) || !strings.Contains(err.Error(), `line 7, column 10: services[1].links: links to "dbb", which is no service of the blueprint; did you mean "db"?`) {
		t.Errorf("misspelt link: %v", err)
	}
}

func TestLinkCyclesAreRefused(t *testing.T) {
	_, err := resolve(t, `
location: docker
services:
- type: docker:gantry/busybox
  id: a
  links: [b]
- type: docker:gantry/busybox
  id: b
  links: [c]
- type: docker:gantry/busybox
  id: c
  links: {back: a}
`)
	if !errors.Is(err, blueprints.ErrInvalid) || !strings.Contains(err.Error(), "links wait on each other: ") ||
		!strings.Contains(err.Error(), "a -> b -> c -> a") {
		t.Errorf("cycle: %v", err)
	}
}
