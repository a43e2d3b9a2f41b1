package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// HAProxyTag is the image of the load-balancer kind: Debian's haproxy and the
// libraries it needs, FROM scratch (images/haproxy).
const HAProxyTag = "gantry/haproxy:latest"

// HAProxyPath is where Debian's haproxy is (scripts/ensure-haproxy.sh installs it).
const HAProxyPath = "/usr/sbin/haproxy"

const haproxyHint = "run scripts/ensure-haproxy.sh (as root on Debian it installs haproxy and stops the service it starts)"

// RequireHAProxy returns the path of Debian's haproxy binary; without one the test
// fails when CI=true and is skipped otherwise.
func RequireHAProxy(t testing.TB) string {
	t.Helper()
	if fi, err := os.Stat(HAProxyPath); err != nil || !fi.Mode().IsRegular() {
		unavailable(t, "no %s; %s", HAProxyPath, haproxyHint)
	}
	return HAProxyPath
}

var haproxy struct {
	once sync.Once
	skip string
	err  error
}

// HAProxyImage makes sure gantry/haproxy:latest exists on the engine, built from
// images/haproxy with what its prepare.sh stages (the host's haproxy and its
// libraries) and the local static busybox, and returns its tag. Like
// BusyboxImage, it builds only when the image is missing or was built from other
// sources (a new haproxy from Debian included), at most once per process.
func HAProxyImage(t testing.TB) string {
	t.Helper()
	cli := RequireDocker(t)
	RequireBusybox(t)
	RequireHAProxy(t)
	haproxy.once.Do(func() {
		haproxy.skip, haproxy.err = ensureImage(cli, "haproxy", HAProxyTag)
	})
	if haproxy.skip != "" {
		unavailable(t, "%s", haproxy.skip)
	}
	if haproxy.err != nil {
		t.Fatalf("image %s: %v", HAProxyTag, haproxy.err)
	}
	return HAProxyTag
}

// ensureImage builds images/<name> into tag, with its prepare.sh's files, unless the
// image on the engine carries the same source digest.
func ensureImage(cli *client.Client, name, tag string) (skip string, err error) {
	bb := BusyboxPath()
	if bb == "" {
		return fmt.Sprintf("no static busybox; %s", ensureHint), nil
	}
	root, err := findRepoRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "images", name)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	staged, err := Prepare(ctx, dir)
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(staged)
	digest, err := StagedDigest(dir, staged, bb)
	if err != nil {
		return "", err
	}
	img, err := cli.ImageInspect(ctx, tag)
	if err == nil && img.Config != nil && img.Config.Labels[SourceLabel] == digest {
		return "", nil
	}
	if err != nil && !client.IsErrNotFound(err) {
		return "", fmt.Errorf("inspect: %w", err)
	}
	return "", BuildStagedImage(ctx, cli, tag, dir, staged, bb, digest)
}

// Prepare runs dir/prepare.sh as scripts/build-images.sh does (`sh prepare.sh
// STAGING` from dir) into a new temporary directory, and returns that directory;
// the caller removes it. With no prepare.sh the directory is empty.
func Prepare(ctx context.Context, dir string) (staged string, err error) {
	staged, err = os.MkdirTemp("", "gantry-image-staged-")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, "prepare.sh")); os.IsNotExist(err) {
		return staged, nil
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", "./prepare.sh", staged)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		os.RemoveAll(staged)
		return "", fmt.Errorf("%s/prepare.sh: %w: %s", dir, err, strings.TrimSpace(out.String()))
	}
	return staged, nil
}
