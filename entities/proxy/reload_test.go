package proxy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/proxy"
	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/docker"
)

// lbFixture is an HAProxy container (gantry/haproxy) and busybox httpd containers that
// answer their own name, on the real engine.
type lbFixture struct {
	engine  *docker.Engine
	lb      *locations.Container
	url     string // the LB's port 8000 as published on this machine
	members []proxy.Member
	names   map[string]string // member id -> what it answers
}

func (f *lbFixture) run(ctx context.Context, cmd locations.Command) (int, error) {
	return f.engine.ExecContainer(ctx, f.lb.ID, cmd)
}

func newLBFixture(t *testing.T, backends int) *lbFixture {
	t.Helper()
	cli := testenv.RequireDocker(t)
	busybox := testenv.BusyboxImage(t)
	haproxy := testenv.HAProxyImage(t)
	ctx := t.Context()
	e, err := docker.New(ctx, "docker", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	labels := testenv.ContainerLabels(t, cli)
	f := &lbFixture{engine: e, names: map[string]string{}}
	for i := range backends {
		name := fmt.Sprintf("member-%d", i+1)
		c, err := e.RunContainer(ctx, locations.ContainerSpec{
			Image:   busybox,
			Init:    true,
			Labels:  labels,
			Command: []string{"/bin/sh", "-c", "mkdir -p /www && echo " + name + " > /www/index.html && exec httpd -f -p 8080 -h /www"},
		})
		if err != nil {
			t.Fatal(err)
		}
		f.members = append(f.members, proxy.Member{ID: name, Address: c.IP, Port: 8080})
		f.names[name] = name
	}
	f.lb, err = e.RunContainer(ctx, locations.ContainerSpec{
		Image:     haproxy,
		Command:   proxy.Command(),
		Labels:    labels,
		OpenPorts: []int{proxy.DefaultPort},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.url = fmt.Sprintf("http://127.0.0.1:%d/", f.lb.Ports[proxy.DefaultPort])
	return f
}

// apply renders the config for members and applies it.
func (f *lbFixture) apply(t *testing.T, members ...proxy.Member) bool {
	t.Helper()
	cfg, err := proxy.Render(proxy.Config{Port: proxy.DefaultPort, Members: members})
	if err != nil {
		t.Fatal(err)
	}
	a, err := proxy.Apply(t.Context(), f.run, cfg, proxy.Stats{})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return a.Reloaded
}

// answers GETs the LB until every one of want answered (or 20 s passed) and returns
// who answered.
func (f *lbFixture) answers(t *testing.T, want ...string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		body, status, err := get(http.DefaultClient, f.url)
		if err == nil && status == http.StatusOK {
			seen[body]++
		}
		all := true
		for _, w := range want {
			all = all && seen[w] > 0
		}
		if all && len(want) > 0 {
			return seen
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("through the LB, in 20 s: %v, want every one of %v", seen, want)
	return nil
}

func get(c *http.Client, url string) (body string, status int, err error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b)), resp.StatusCode, err
}

// load sends requests through the LB from workers goroutines until stop is called,
// half of them on keep-alive connections, half on a new connection each time.
type load struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	seen       map[string]int
	errs       []string
	stop       func()
	wg         sync.WaitGroup
}

func startLoad(url string, workers int) *load {
	l := &load{seen: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	l.stop = func() { cancel(); l.wg.Wait() }
	for w := range workers {
		tr := &http.Transport{DisableKeepAlives: w%2 == 1}
		c := &http.Client{Timeout: 15 * time.Second, Transport: tr}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer tr.CloseIdleConnections()
			for ctx.Err() == nil {
				body, status, err := get(c, url)
				if ctx.Err() != nil && err != nil {
					return
				}
				l.mu.Lock()
				if err == nil && status == http.StatusOK {
					l.ok.Add(1)
					l.seen[body]++
				} else {
					l.failed.Add(1)
					if len(l.errs) < 10 {
						l.errs = append(l.errs, fmt.Sprintf("status %d, err %v, body %q", status, err, body))
					}
				}
				l.mu.Unlock()
			}
		}()
	}
	return l
}

// The acceptance test of the reload: requests flow without pause through HAProxy while
// it is reloaded ten times with changing members, and not one fails; each member
// answers.
func TestApplyReloadsWithoutFailedRequests(t *testing.T) {
	f := newLBFixture(t, 2)
	a, b := f.members[0], f.members[1]
	if !f.apply(t, a, b) {
		t.Fatal("the first Apply did not reload HAProxy")
	}
	f.answers(t, a.ID, b.ID)

	l := startLoad(f.url, 8)
	pools := [][]proxy.Member{{a}, {a, b}, {b}, {a, b}, {a}, {b}, {a, b}, {b}, {a}, {a, b}}
	for i, pool := range pools {
		time.Sleep(150 * time.Millisecond)
		before := l.ok.Load()
		if !f.apply(t, pool...) {
			t.Fatalf("reload %d did not reload", i+1)
		}
		t.Logf("reload %d: %d members, %d requests served meanwhile", i+1, len(pool), l.ok.Load()-before)
	}
	time.Sleep(300 * time.Millisecond)
	l.stop()

	t.Logf("%d requests served, %d failed; answered by %v", l.ok.Load(), l.failed.Load(), l.seen)
	if n := l.failed.Load(); n != 0 {
		t.Errorf("%d requests failed during the reloads, e.g. %v", n, l.errs)
	}
	if l.ok.Load() < 200 {
		t.Errorf("only %d requests: the load did not run through the reloads", l.ok.Load())
	}
	for _, m := range f.members {
		if l.seen[m.ID] == 0 {
			t.Errorf("member %s never answered: %v", m.ID, l.seen)
		}
	}
}

func TestApplyErrorsKeepTheRunningConfig(t *testing.T) {
	f := newLBFixture(t, 2)
	a, b := f.members[0], f.members[1]
	f.apply(t, a, b)
	f.answers(t, a.ID, b.ID)
	ctx := t.Context()

	t.Run("last counts of the old worker", func(t *testing.T) {
		for range 7 {
			if _, status, err := get(http.DefaultClient, f.url); err != nil || status != http.StatusOK {
				t.Fatalf("GET: %d %v", status, err)
			}
		}
		cfg, _ := proxy.Render(proxy.Config{Port: proxy.DefaultPort, Members: []proxy.Member{a}})
		applied, err := proxy.Apply(ctx, f.run, cfg, proxy.Stats{})
		if err != nil || !applied.Reloaded {
			t.Fatalf("Apply = %+v, %v", applied, err)
		}
		l, err := proxy.LoadOf(applied.Last, proxy.Frontend, proxy.Backend)
		if err != nil {
			t.Fatalf("Applied.Last: %v", err)
		}
		if l.Requests < 7 {
			t.Errorf("the old worker's last count = %d, want at least the 7 requests just made", l.Requests)
		}
		// The new worker counts from 0.
		rows, err := proxy.ReadStats(ctx, f.run, proxy.Stats{})
		if err != nil {
			t.Fatal(err)
		}
		if after, _ := proxy.LoadOf(rows, proxy.Frontend, proxy.Backend); after.Requests >= l.Requests {
			t.Errorf("after the reload the count is %d, before it %d", after.Requests, l.Requests)
		}
		f.apply(t, a, b)
		f.answers(t, a.ID, b.ID)
	})

	t.Run("unchanged", func(t *testing.T) {
		if f.apply(t, b, a) {
			t.Error("the same pool in another order reloaded HAProxy")
		}
	})

	t.Run("refused by haproxy -c", func(t *testing.T) {
		_, err := proxy.Apply(ctx, f.run, []byte("frontend x\n\tbind :8000\n\tno-such-keyword\n"), proxy.Stats{})
		if !errors.Is(err, entities.ErrInvalid) || !strings.Contains(err.Error(), "no-such-keyword") {
			t.Fatalf("Apply = %v, want ErrInvalid with HAProxy's message", err)
		}
		f.answers(t, a.ID, b.ID)
	})

	t.Run("checked but not loaded", func(t *testing.T) {
		good, err := proxy.Render(proxy.Config{Port: proxy.DefaultPort, Members: []proxy.Member{a}})
		if err != nil {
			t.Fatal(err)
		}
		// 10.99.99.99 is no address of the container: haproxy -c passes, binding fails.
		bad := bytes.Replace(good, []byte("bind :8000"), []byte("bind :8000\n\tbind 10.99.99.99:8001"), 1)
		_, err = proxy.Apply(ctx, f.run, bad, proxy.Stats{})
		if !errors.Is(err, proxy.ErrReload) {
			t.Fatalf("Apply = %v, want ErrReload", err)
		}
		// The previous config (both members) still serves, and is the one on file.
		f.answers(t, a.ID, b.ID)
		cfg, _ := proxy.Render(proxy.Config{Port: proxy.DefaultPort, Members: []proxy.Member{a, b}})
		if a, err := proxy.Apply(ctx, f.run, cfg, proxy.Stats{}); err != nil || a.Reloaded {
			t.Errorf("Apply of the running config after a failed reload = %+v, %v; want unchanged", a, err)
		}
		// And the next real change still reloads.
		if !f.apply(t, b) {
			t.Fatal("no reload after a failed one")
		}
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if body, _, _ := get(http.DefaultClient, f.url); body == a.ID {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			break
		}
		for range 10 {
			if body, _, err := get(http.DefaultClient, f.url); body != b.ID {
				t.Fatalf("after reloading with %s only, the LB answered %q (%v)", b.ID, body, err)
			}
		}
	})

	t.Run("no members answers 503", func(t *testing.T) {
		f.apply(t)
		_, status, err := get(http.DefaultClient, f.url)
		if err != nil || status != http.StatusServiceUnavailable {
			t.Fatalf("GET through an empty pool = %d, %v; want 503", status, err)
		}
	})
}

func TestReadStatsFromTheContainer(t *testing.T) {
	f := newLBFixture(t, 2)
	a, b := f.members[0], f.members[1]
	f.apply(t, a, b)
	f.answers(t, a.ID, b.ID)
	for range 20 {
		if _, status, err := get(http.DefaultClient, f.url); err != nil || status != http.StatusOK {
			t.Fatalf("GET: %d %v", status, err)
		}
	}
	rows, err := proxy.ReadStats(t.Context(), f.run, proxy.Stats{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := proxy.LoadOf(rows, proxy.Frontend, proxy.Backend)
	if err != nil {
		t.Fatal(err)
	}
	if l.Requests < 22 || l.ServersUp != 2 || l.InFlight != 0 {
		t.Errorf("Load = %+v, want at least 22 requests, 2 servers up, none in flight", l)
	}
	if _, err := proxy.ReadStats(t.Context(), f.run, proxy.Stats{Bind: "127.0.0.1:1"}); !errors.Is(err, locations.ErrUnavailable) {
		t.Errorf("ReadStats from a closed port = %v, want ErrUnavailable", err)
	}
}
