package testenv_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"

	"github.com/gantry-dev/gantry/internal/testenv"
)

// With a prepare.sh, the Go digest must still equal the script's: the image dir's
// files, then the staged ones, then busybox.
func TestStagedDigestMatchesScript(t *testing.T) {
	dir := t.TempDir()
	write := func(p, body string, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "Dockerfile"), "FROM scratch\n", 0o644)
	write(filepath.Join(dir, "prepare.sh"), "mkdir -p \"$1/rootfs/b\" && echo one > \"$1/rootfs/b/x\" && echo two > \"$1/A\"\n", 0o755)
	bb := filepath.Join(t.TempDir(), "busybox")
	write(bb, "not really busybox", 0o755)

	staged, err := testenv.Prepare(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(staged)
	if b, err := os.ReadFile(filepath.Join(staged, "rootfs", "b", "x")); err != nil || string(b) != "one\n" {
		t.Fatalf("prepare.sh did not stage rootfs/b/x: %q %v", b, err)
	}
	got, err := testenv.StagedDigest(dir, staged, bb)
	if err != nil {
		t.Fatal(err)
	}
	// The same pipeline as scripts/build-images.sh.
	script := `{
		(cd "$1" && find . -type f | LC_ALL=C sort | while IFS= read -r f; do cat "$f"; done)
		(cd "$2" && find . -type f | LC_ALL=C sort | while IFS= read -r f; do cat "$f"; done)
		cat "$3"
	} | sha256sum | cut -d' ' -f1`
	out, err := exec.Command("/bin/sh", "-c", script, "sh", dir, staged, bb).Output()
	if err != nil {
		t.Fatalf("the shell pipeline of scripts/build-images.sh failed: %v", err)
	}
	if want := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("StagedDigest = %s, shell pipeline = %s", got, want)
	}
	plain, err := testenv.SourceDigest(dir, bb)
	if err != nil {
		t.Fatal(err)
	}
	if plain == got {
		t.Error("the staged files do not change the digest")
	}
	if again, _ := testenv.StagedDigest(dir, "", bb); again != plain {
		t.Errorf("StagedDigest with no staged dir = %s, SourceDigest = %s", again, plain)
	}
}

func TestPrepareFailureSaysWhy(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prepare.sh"), []byte("echo 'no frobnicator here' >&2; exit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := testenv.Prepare(t.Context(), dir)
	if err == nil || !strings.Contains(err.Error(), "no frobnicator here") {
		t.Fatalf("Prepare = %v, want prepare.sh's message", err)
	}
}

// gantry/haproxy runs Debian's haproxy FROM scratch: the libraries ldd found are
// enough for it to start and check the config the image ships.
func TestHAProxyImage(t *testing.T) {
	cli := testenv.RequireDocker(t)
	image := testenv.HAProxyImage(t)
	img, err := cli.ImageInspect(t.Context(), image)
	if err != nil {
		t.Fatal(err)
	}
	if img.Config.Labels[testenv.SourceLabel] == "" {
		t.Errorf("image %s has no %s label", image, testenv.SourceLabel)
	}
	labels := testenv.ContainerLabels(t, cli)
	ctx := t.Context()
	c, err := cli.ContainerCreate(ctx, &container.Config{
		Image:  image,
		Cmd:    []string{"/usr/sbin/haproxy", "-c", "-f", "/etc/haproxy/haproxy.cfg"},
		Labels: labels,
	}, nil, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	waitC, errC := cli.ContainerWait(ctx, c.ID, container.WaitConditionNotRunning)
	select {
	case w := <-waitC:
		if w.StatusCode != 0 {
			logs, _ := cli.ContainerLogs(ctx, c.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
			var b bytes.Buffer
			if logs != nil {
				_, _ = b.ReadFrom(logs)
				logs.Close()
			}
			t.Fatalf("haproxy -c in %s exited %d: %s", image, w.StatusCode, b.String())
		}
	case err := <-errC:
		t.Fatal(err)
	}
}
