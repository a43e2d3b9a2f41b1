package testenv_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"

	"github.com/gantry-dev/gantry/internal/testenv"
)

// The Go digest must equal the one scripts/build-images.sh labels images with,
// or tests and `make images` would keep rebuilding each other's image.
func TestSourceDigestMatchesScript(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"Dockerfile":    "FROM scratch\n",
		"b.txt":         "b",
		"a.txt":         "a",
		"sub/z":         "z",
		"sub/a":         "sa",
		"Z-upper-first": "Z",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bb := filepath.Join(t.TempDir(), "busybox")
	if err := os.WriteFile(bb, []byte("not really busybox"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := testenv.SourceDigest(dir, bb)
	if err != nil {
		t.Fatal(err)
	}
	// The same pipeline as scripts/build-images.sh.
	script := `{ (cd "$1" && find . -type f | LC_ALL=C sort | while IFS= read -r f; do cat "$f"; done); cat "$2"; } | sha256sum | cut -d' ' -f1`
	out, err := exec.Command("/bin/sh", "-c", script, "sh", dir, bb).Output()
	if err != nil {
		t.Fatalf("the shell pipeline of scripts/build-images.sh failed: %v", err)
	}
	if want := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("SourceDigest = %s, shell pipeline = %s", got, want)
	}
}

func TestRepoRoot(t *testing.T) {
	root := testenv.RepoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "images", "busybox", "Dockerfile")); err != nil {
		t.Fatalf("RepoRoot = %s: %v", root, err)
	}
}

func TestBusyboxImageAndCleanup(t *testing.T) {
	cli := testenv.RequireDocker(t)
	image := testenv.BusyboxImage(t)
	img, err := cli.ImageInspect(t.Context(), image)
	if err != nil {
		t.Fatal(err)
	}
	if img.Config.Labels[testenv.SourceLabel] == "" {
		t.Errorf("image %s has no %s label", image, testenv.SourceLabel)
	}
	if again := testenv.BusyboxImage(t); again != image {
		t.Errorf("second BusyboxImage = %q", again)
	}

	var labels map[string]string
	t.Run("creates", func(t *testing.T) {
		labels = testenv.ContainerLabels(t, cli)
		for range 2 {
			c, err := cli.ContainerCreate(t.Context(), &container.Config{Image: image, Cmd: []string{"true"}, Labels: labels}, nil, nil, nil, "")
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("created %s", c.ID[:12])
		}
	})
	// The subtest's cleanup has run: nothing carrying its label remains.
	list, err := cli.ContainerList(t.Context(), container.ListOptions{
		All:     true,
		Filters: filters.NewArgs(filters.Arg("label", testenv.TestLabel+"="+labels[testenv.TestLabel])),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Fatalf("%d containers left after cleanup", len(list))
	}
}

func TestBuildImage(t *testing.T) {
	cli := testenv.RequireDocker(t)
	testenv.BusyboxImage(t) // skips/fails the same way when busybox is missing
	root := testenv.RepoRoot(t)
	dir := filepath.Join(root, "images", "busybox")
	bb := testenv.BusyboxPath()
	tag := "gantry-testenv/build:" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	t.Cleanup(func() {
		_, _ = cli.ImageRemove(context.Background(), tag, image.RemoveOptions{Force: true, PruneChildren: true})
	})
	if err := testenv.BuildImage(t.Context(), cli, tag, dir, bb, "test-digest"); err != nil {
		t.Fatal(err)
	}
	img, err := cli.ImageInspect(t.Context(), tag)
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Config.Labels[testenv.SourceLabel]; got != "test-digest" {
		t.Errorf("label %s = %q", testenv.SourceLabel, got)
	}
	if !slices.Equal(img.Config.Cmd, []string{"sh"}) {
		t.Errorf("Cmd = %q", img.Config.Cmd)
	}

	// A broken Dockerfile is reported with the builder's message.
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "Dockerfile"), []byte("FROM scratch\nCOPY missing-file /x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = testenv.BuildImage(t.Context(), cli, tag+"-bad", bad, bb, "x")
	if err == nil || !strings.Contains(err.Error(), "missing-file") {
		t.Fatalf("broken build: err = %v", err)
	}
}

// Without an engine, RequireDocker skips, except under CI=true where it fails.
// Checked in a child test process pointed at a socket nobody listens on.
func TestRequireDockerUnreachable(t *testing.T) {
	if os.Getenv("GANTRY_TESTENV_CHILD") == "1" {
		testenv.RequireDocker(t)
		t.Fatal("RequireDocker returned without an engine")
	}
	sock := "unix://" + filepath.Join(t.TempDir(), "no-docker.sock")
	for _, tt := range []struct {
		ci       string
		wantFail bool
		wantOut  string
	}{
		{ci: "", wantFail: false, wantOut: "SKIP"},
		{ci: "true", wantFail: true, wantOut: "CI=true"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRequireDockerUnreachable$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "GANTRY_TESTENV_CHILD=1", "DOCKER_HOST="+sock, "CI="+tt.ci)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != tt.wantFail {
			t.Errorf("CI=%q: failed = %v, want %v\n%s", tt.ci, failed, tt.wantFail, out)
		}
		if !strings.Contains(string(out), tt.wantOut) || !strings.Contains(string(out), "scripts/ensure-docker.sh") {
			t.Errorf("CI=%q: output lacks %q or the ensure-docker hint:\n%s", tt.ci, tt.wantOut, out)
		}
	}
}
