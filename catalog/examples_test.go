package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/blueprints"
	// The kinds, policies and enrichers the examples use.
	_ "github.com/gantry-dev/gantry/entities/cluster"
	_ "github.com/gantry-dev/gantry/entities/dockercloud"
	_ "github.com/gantry-dev/gantry/entities/proxy"
	_ "github.com/gantry-dev/gantry/policies"
)

// Every example in examples/ parses and resolves.
func TestExamplesResolve(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "catalog-") {
			continue // a catalog BOM: TestCatalogExamples
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := blueprints.Parse(data)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if _, err := Resolve(plan, testLocations(t)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
