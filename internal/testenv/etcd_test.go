package testenv_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gantry-dev/gantry/internal/testenv"
)

func TestStartEtcd(t *testing.T) {
	e := testenv.StartEtcd(t)
	if e.ClientPort == 0 || e.PeerPort == 0 || len(e.Endpoints) != 1 || e.Endpoints[0] != e.Endpoint {
		t.Fatalf("server %+v", e)
	}
	if _, err := os.Stat(filepath.Join(e.DataDir, "member")); err != nil {
		t.Fatalf("no member directory in the private data dir: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cli, err := clientv3.New(clientv3.Config{Endpoints: e.Endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Put(ctx, "/gantry/test", "v1"); err != nil {
		t.Fatal(err)
	}

	// Data survive a restart on the same ports and data directory.
	e.Restart()
	resp, err := cli.Get(ctx, "/gantry/test")
	if err != nil {
		t.Fatalf("get after restart: %v", err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v1" {
		t.Fatalf("after restart: %v", resp.Kvs)
	}

	e.Stop()
	e.Stop()
	c := http.Client{Timeout: time.Second}
	if r, err := c.Get(e.Endpoint + "/health"); err == nil {
		r.Body.Close()
		t.Fatal("etcd still answers after Stop")
	}
}

// Two servers of one test run side by side, each with its own ports and data.
func TestStartEtcdTwice(t *testing.T) {
	a, b := testenv.StartEtcd(t), testenv.StartEtcd(t)
	if a.ClientPort == b.ClientPort || a.DataDir == b.DataDir {
		t.Fatalf("servers share a port or a data dir: %s %s, %s %s", a.Endpoint, a.DataDir, b.Endpoint, b.DataDir)
	}
}
