package dockercloud_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/dockercloud"
)

// socketProxy serves a unix socket that forwards to another (an engine's), and can be
// cut and restored: an engine that stops answering, and answers again.
type socketProxy struct {
	path, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func newSocketProxy(t *testing.T, target string) *socketProxy {
	p := &socketProxy{path: filepath.Join(t.TempDir(), "engine.sock"), target: target}
	p.up(t)
	t.Cleanup(p.down)
	return p
}

func (p *socketProxy) up(t *testing.T) {
	ln, err := net.Listen("unix", p.path)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("unix", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, b)
			p.mu.Unlock()
			go func() { io.Copy(b, c); b.Close() }()
			go func() { io.Copy(c, b); c.Close() }()
		}
	}()
}

func (p *socketProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// A host whose engine stops answering is not up (its feed pings it), and gets no
// container; when it answers again it takes containers again. A container's own
// strategies narrow the cloud's choice.
func TestHostDownAndEntityStrategies(t *testing.T) {
	f := newFixture(t, 3)
	target := strings.TrimPrefix(f.engines[2].Host, "unix://")
	if !strings.HasPrefix(f.engines[2].Host, "unix://") {
		t.Fatalf("engine 3 is %s, not on a unix socket as scripts/engines.sh makes it", f.engines[2].Host)
	}
	proxy := newSocketProxy(t, target)
	sv := f.open(t, t.TempDir())
	infra := f.deployInfra(t, sv, map[string]any{
		dockercloud.KeyHosts: []any{f.endpoint(t, 1, false), map[string]any{"endpoint": "unix://" + proxy.path, "name": "flaky"}},
	})
	var flaky *entities.Entity
	for _, h := range hosts(infra) {
		if h.Name() == "flaky" {
			flaky = h
		}
	}
	c, _ := dockercloud.CloudOf(infra)

	// The container asks for the host named flaky.
	only := fmt.Sprintf(`
name: pinned
location: docker-cloud:%s
services:
- type: docker-container
  name: pinned
  brooklyn.config:
    image: gantry/busybox:latest
    command: exec sleep 3600
    stop.timeout: 1s
    docker.container.strategies: [{type: hostname, pattern: "^flaky$"}]
    labels:
      dev.gantry.test: %s
`, f.cloud, f.label)
	app, err := sv.deploy(t, sv.resolve(t, only))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unmanage(t, sv.m, app) })
	if h := c.HostOf(containerOf(app.Children()[0])); h != flaky.ID() {
		t.Errorf("the pinned container is on %s, want flaky (%s)", h, flaky.ID())
	}

	proxy.down()
	waitFor(t, 20*time.Second, "flaky not up", func() bool { return !flaky.IsUp() })
	if flaky.State() != entities.OnFire {
		t.Errorf("flaky is %s, want ON_FIRE while its engine does not answer", flaky.State())
	}
	// Another pinned container finds no host up that it accepts, and none can be added.
	app2, task, err := sv.m.Deploy(context.Background(), sv.resolve(t, strings.Replace(only, "name: pinned\nlocation", "name: pinned2\nlocation", 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unmanage(t, sv.m, app2) })
	if err := wait(t, task, time.Minute); err == nil || !strings.Contains(err.Error(), "hostname") {
		t.Errorf("a container pinned to a host that is down: %v, want a failure naming the hostname constraint", err)
	}

	proxy.up(t)
	waitFor(t, 20*time.Second, "flaky up again", func() bool { return flaky.IsUp() && flaky.State() == entities.Running })
	if _, err := invoke(t, app2, "restart", nil); err != nil {
		t.Fatalf("the pinned container once flaky is back: %v", err)
	}
	if h := c.HostOf(containerOf(app2.Children()[0])); h != flaky.ID() {
		t.Errorf("the second pinned container is on %s, want flaky", h)
	}
}
