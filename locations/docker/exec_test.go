package docker_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/locations"
)

func TestExecContainerAndLinks(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	db, err := f.e.RunContainer(ctx, locations.ContainerSpec{
		Name: uniqueName("gantry-test-db"), Image: f.image, Init: true,
		Command:   []string{"nc", "-ll", "-p", "6379", "-e", "cat"},
		OpenPorts: []int{6379}, Labels: f.labels,
	})
	if err != nil {
		t.Fatal(err)
	}
	app, err := f.e.RunContainer(ctx, locations.ContainerSpec{
		Name: uniqueName("gantry-test-app"), Image: f.image, Init: true,
		Command: []string{"sleep", "600"}, Labels: f.labels,
		Links: []string{db.Name + ":redis"},
	})
	if err != nil {
		t.Fatal(err)
	}

	// docker exec: output, environment, directory, exit code.
	var out, errOut bytes.Buffer
	code, err := f.e.ExecContainer(ctx, app.ID, locations.Command{
		Script: `echo "$REDIS_PORT_6379_TCP_ADDR:$REDIS_PORT_6379_TCP_PORT $GREETING $(pwd)"; echo oops >&2; exit 3`,
		Env:    map[string]string{"GREETING": "hi"}, Dir: "/tmp",
		Stdout: &out, Stderr: &errOut,
	})
	if err != nil || code != 3 {
		t.Fatalf("exec = %d, %v", code, err)
	}
	if want := db.IP + ":6379 hi /tmp\n"; out.String() != want || errOut.String() != "oops\n" {
		t.Errorf("stdout %q (want %q), stderr %q", out.String(), want, errOut.String())
	}
	// The link's alias resolves to the linked container, which answers.
	out.Reset()
	code, err = f.e.ExecContainer(ctx, app.ID, locations.Command{
		Script: `grep -w redis /etc/hosts | cut -f1; echo PING | nc -w 2 redis 6379`, Stdout: &out,
	})
	if err != nil || code != 0 {
		t.Fatalf("exec = %d, %v", code, err)
	}
	if lines := strings.Fields(out.String()); len(lines) != 2 || lines[0] != db.IP || lines[1] != "PING" {
		t.Errorf("hosts and echo: %q, want %s and PING", out.String(), db.IP)
	}

	// A context that ends stops the wait.
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if code, err := f.e.ExecContainer(short, app.ID, locations.Command{Script: "sleep 5"}); code != -1 || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled exec = %d, %v", code, err)
	}
	if _, err := f.e.ExecContainer(ctx, "gantry-no-such-container", locations.Command{Script: "true"}); !errors.Is(err, locations.ErrNotFound) {
		t.Errorf("exec in a missing container: %v", err)
	}
	if _, err := f.e.ExecContainer(ctx, app.ID, locations.Command{Script: " "}); !errors.Is(err, locations.ErrInvalid) {
		t.Errorf("empty script: %v", err)
	}
	// A malformed link is refused before anything is created.
	if _, err := f.e.RunContainer(ctx, locations.ContainerSpec{Image: f.image, Links: []string{"nolias"}, Labels: f.labels}); !errors.Is(err, locations.ErrInvalid) {
		t.Errorf("bad link: %v", err)
	}
}
