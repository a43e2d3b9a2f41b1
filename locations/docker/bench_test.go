package docker_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"

	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/docker"
)

func benchEngine(b *testing.B) (*docker.Engine, string, map[string]string) {
	b.Helper()
	cli := testenv.RequireDocker(b)
	image := testenv.BusyboxImage(b)
	e, err := docker.New(context.Background(), "docker", "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.Close() })
	return e, image, testenv.ContainerLabels(b, cli)
}

// BenchmarkRunContainers50 creates, starts and inspects 50 containers
// concurrently, through RunContainer and through a bare loop on the Docker
// API with the same client: the two should be within noise of each other.
//
//	go test -run '^$' -bench RunContainers50 -benchtime 5x ./locations/docker
func BenchmarkRunContainers50(b *testing.B) {
	const n = 50
	e, image, labels := benchEngine(b)
	cli := e.Client()
	removeAll := func(b *testing.B) {
		b.Helper()
		list, err := e.ListContainers(context.Background(), labels)
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		for _, c := range list {
			wg.Go(func() { _ = e.RemoveContainer(context.Background(), c.ID) })
		}
		wg.Wait()
	}
	run := func(b *testing.B, one func(ctx context.Context, i int) error) {
		ctx := context.Background()
		for b.Loop() {
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Go(func() {
					if err := one(ctx, i); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			b.StopTimer()
			removeAll(b)
			b.StartTimer()
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/50-containers")
	}
	b.Run("gantry", func(b *testing.B) {
		run(b, func(ctx context.Context, i int) error {
			_, err := e.RunContainer(ctx, locations.ContainerSpec{
				Image: image, Command: []string{"sleep", "3600"}, Labels: labels, OpenPorts: []int{80},
			})
			return err
		})
	})
	b.Run("bare", func(b *testing.B) {
		run(b, func(ctx context.Context, i int) error {
			c, err := cli.ContainerCreate(ctx, &container.Config{
				Image: image, Cmd: []string{"sleep", "3600"}, Labels: labels,
				ExposedPorts: nat.PortSet{"80/tcp": {}},
			}, &container.HostConfig{PortBindings: nat.PortMap{"80/tcp": {{}}}}, nil, nil, "")
			if err != nil {
				return err
			}
			if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
				return err
			}
			_, err = cli.ContainerInspect(ctx, c.ID)
			return err
		})
	})
}

// BenchmarkWatchDie measures from a kill request to the die event reaching
// the WatchContainers callback.
//
//	go test -run '^$' -bench WatchDie -benchtime 10x ./locations/docker
func BenchmarkWatchDie(b *testing.B) {
	e, image, labels := benchEngine(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	evs := make(chan locations.ContainerEvent, 100)
	go func() { _ = e.WatchContainers(ctx, labels, func(ev locations.ContainerEvent) { evs <- ev }) }()
	wait := func(id, action string) {
		timeout := time.After(30 * time.Second)
		for {
			select {
			case ev := <-evs:
				if ev.ID == id && ev.Action == action {
					return
				}
			case <-timeout:
				b.Fatalf("no %s for %s", action, id)
			}
		}
	}
	var total time.Duration
	var worst time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		c, err := e.RunContainer(ctx, locations.ContainerSpec{Image: image, Command: []string{"sleep", "3600"}, Labels: labels})
		if err != nil {
			b.Fatal(err)
		}
		wait(c.ID, locations.EventStart)
		b.StartTimer()
		t0 := time.Now()
		if err := e.Client().ContainerKill(ctx, c.ID, "KILL"); err != nil {
			b.Fatal(err)
		}
		wait(c.ID, locations.EventDie)
		d := time.Since(t0)
		total += d
		worst = max(worst, d)
		b.StopTimer()
		if err := e.RemoveContainer(ctx, c.ID); err != nil {
			b.Fatal(fmt.Errorf("iteration %d: %w", i, err))
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-kill-to-die")
	b.ReportMetric(float64(worst.Microseconds())/1000, "ms-worst")
}
