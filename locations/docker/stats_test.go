package docker_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/locations"
)

func TestStatsContainer(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	c, err := f.e.RunContainer(ctx, locations.ContainerSpec{
		Name: uniqueName("gantry-test-stats"), Image: f.image, Init: true,
		Command: []string{"sh", "-c", "while :; do :; done"},
		Labels:  f.labels,
	})
	if err != nil {
		t.Fatal(err)
	}
	first, err := f.e.StatsContainer(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	second, err := f.e.StatsContainer(ctx, c.Name)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first %+v, second %+v", *first, *second)
	cpu, ok := locations.CPUFraction(*first, *second)
	// About 1 on an idle machine; less when other tests share the CPUs.
	if !ok || cpu <= 0 || cpu > float64(second.OnlineCPUs) {
		t.Errorf("CPU of a busy loop = %v, %v; want more than 0 (about 1 on an idle machine)", cpu, ok)
	}
	if second.Memory == 0 || second.MemoryLimit < second.Memory || second.OnlineCPUs == 0 || !second.Time.After(first.Time) {
		t.Errorf("second reading: %+v", *second)
	}
	if pct, ok := second.MemoryPercent(); !ok || pct <= 0 || pct > 100 {
		t.Errorf("MemoryPercent = %v, %v", pct, ok)
	}

	if err := f.e.StopContainer(ctx, c.ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.e.StatsContainer(ctx, c.ID); !errors.Is(err, locations.ErrInvalid) {
		t.Errorf("stats of a stopped container: %v, want ErrInvalid", err)
	}
	if _, err := f.e.StatsContainer(ctx, uniqueName("gantry-test-nosuch")); !errors.Is(err, locations.ErrNotFound) {
		t.Errorf("stats of a missing container: %v, want ErrNotFound", err)
	}
}
