package testenv

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
)

const (
	// TestLabel is carried by every container a test creates; its value
	// identifies the test (see ContainerLabels) so cleanup finds them.
	TestLabel = "dev.gantry.test"
	// BusyboxTag is the image examples and tests run.
	BusyboxTag = "gantry/busybox:latest"
	// SourceLabel on a gantry/* image is the sha256 of its sources, as computed
	// by SourceDigest and scripts/build-images.sh; the image is rebuilt when
	// it differs.
	SourceLabel = "dev.gantry.image.source"
)

// busyboxPaths are where a static busybox is looked for (Debian's busybox-static).
var busyboxPaths = []string{"/usr/bin/busybox", "/bin/busybox"}

// BusyboxPath returns the path of the local busybox (/usr/bin/busybox, or
// /bin/busybox on systems without merged /usr), or "" when there is none.
func BusyboxPath() string {
	for _, p := range busyboxPaths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// RequireBusybox returns the path of a static busybox; without one the test fails when
// CI=true and is skipped otherwise.
func RequireBusybox(t testing.TB) string {
	t.Helper()
	p := BusyboxPath()
	if p == "" {
		unavailable(t, "no busybox (Debian's busybox-static); %s", ensureHint)
	}
	return p
}

const ensureHint = "run scripts/ensure-docker.sh (as root on Debian it installs docker.io and busybox-static and starts dockerd)"

var docker struct {
	once sync.Once
	cli  *client.Client
	err  error
}

// unavailable fails the test under CI=true and skips it otherwise.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: tests that need it fail instead of skipping)", msg)
	}
	t.Skipf("skipping: %s", msg)
}

// RequireDocker returns a client of the Docker Engine named by the environment
// (DOCKER_HOST etc., default unix:///var/run/docker.sock), with API version
// negotiated. The client is shared by the whole test process; do not close it.
// When the engine does not answer, the test is skipped, or fails when CI=true.
func RequireDocker(t testing.TB) *client.Client {
	t.Helper()
	docker.once.Do(func() {
		cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if err != nil {
			docker.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ping, err := cli.Ping(ctx)
		if err != nil {
			docker.err = fmt.Errorf("%s: %w", cli.DaemonHost(), err)
			_ = cli.Close()
			return
		}
		cli.NegotiateAPIVersionPing(ping)
		docker.cli = cli
	})
	if docker.err != nil {
		unavailable(t, "no Docker Engine answers: %v; %s", docker.err, ensureHint)
	}
	return docker.cli
}

var busybox struct {
	once sync.Once
	skip string // environment problem: skip (or fail in CI)
	err  error  // build problem: fail
}

// BusyboxImage makes sure gantry/busybox:latest exists on the engine, built
// from images/busybox with the local static busybox, and returns its tag. It
// builds (through the Docker API, legacy builder, nothing pulled) when the
// image is missing or was built from other sources; at most once per process.
func BusyboxImage(t testing.TB) string {
	t.Helper()
	cli := RequireDocker(t)
	busybox.once.Do(func() {
		busybox.skip, busybox.err = ensureBusybox(cli)
	})
	if busybox.skip != "" {
		unavailable(t, "%s", busybox.skip)
	}
	if busybox.err != nil {
		t.Fatalf("image %s: %v", BusyboxTag, busybox.err)
	}
	return BusyboxTag
}

func ensureBusybox(cli *client.Client) (skip string, err error) {
	bb := BusyboxPath()
	if bb == "" {
		return fmt.Sprintf("no static busybox at %s; %s", strings.Join(busyboxPaths, " or "), ensureHint), nil
	}
	if static, err := isStatic(bb); err != nil {
		return "", fmt.Errorf("read %s: %w", bb, err)
	} else if !static {
		return fmt.Sprintf("%s is dynamically linked and cannot run in a FROM scratch image; install Debian's busybox-static (%s)", bb, ensureHint), nil
	}
	root, err := findRepoRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "images", "busybox")
	digest, err := SourceDigest(dir, bb)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	img, err := cli.ImageInspect(ctx, BusyboxTag)
	if err == nil && img.Config != nil && img.Config.Labels[SourceLabel] == digest {
		return "", nil
	}
	if err != nil && !client.IsErrNotFound(err) {
		return "", fmt.Errorf("inspect: %w", err)
	}
	return "", BuildImage(ctx, cli, BusyboxTag, dir, bb, digest)
}

// BuildImage builds dir (a directory with a Dockerfile) plus busybox, copied
// in as ./busybox, into tag with the legacy builder, labelled SourceLabel=digest.
// Nothing is pulled.
func BuildImage(ctx context.Context, cli *client.Client, tag, dir, busyboxPath, digest string) error {
	return BuildStagedImage(ctx, cli, tag, dir, "", busyboxPath, digest)
}

// BuildStagedImage is BuildImage with the files under staged (what the image's
// prepare.sh wrote, see Prepare; none when staged is "") added to the context at
// their relative paths.
func BuildStagedImage(ctx context.Context, cli *client.Client, tag, dir, staged, busyboxPath, digest string) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files, err := sourceFiles(dir)
	if err != nil {
		return err
	}
	var stagedFiles []string
	if staged != "" {
		if stagedFiles, err = sourceFiles(staged); err != nil {
			return err
		}
	}
	add := func(name, path string) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: name, Mode: int64(fi.Mode().Perm()), Size: int64(len(b)), ModTime: fi.ModTime(), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	}
	for _, f := range files {
		if err := add(f, filepath.Join(dir, filepath.FromSlash(f))); err != nil {
			return fmt.Errorf("build context: %w", err)
		}
	}
	for _, f := range stagedFiles {
		if err := add(f, filepath.Join(staged, filepath.FromSlash(f))); err != nil {
			return fmt.Errorf("build context: %w", err)
		}
	}
	if err := add("busybox", busyboxPath); err != nil {
		return fmt.Errorf("build context: %w", err)
	}
	if err := tw.Close(); err != nil {
		return err
	}

	resp, err := cli.ImageBuild(ctx, &buf, build.ImageBuildOptions{
		Tags:        []string{tag},
		Labels:      map[string]string{SourceLabel: digest},
		Remove:      true,
		ForceRemove: true,
		Version:     build.BuilderV1,
	})
	if err != nil {
		return fmt.Errorf("build %s: %w", tag, err)
	}
	defer resp.Body.Close()
	var out strings.Builder
	dec := json.NewDecoder(resp.Body)
	for {
		var msg struct {
			Stream      string `json:"stream"`
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("build %s: read output: %w\n%s", tag, err, out.String())
		}
		out.WriteString(msg.Stream)
		if msg.ErrorDetail != nil && msg.ErrorDetail.Message != "" {
			return fmt.Errorf("build %s: %s\n%s", tag, msg.ErrorDetail.Message, out.String())
		}
		if msg.Error != "" {
			return fmt.Errorf("build %s: %s\n%s", tag, msg.Error, out.String())
		}
	}
	return nil
}

// SourceDigest is the hex sha256 of the regular files under dir, in byte order
// of their slash-separated relative paths, followed by busybox: the same
// digest scripts/build-images.sh computes.
func SourceDigest(dir, busyboxPath string) (string, error) {
	return StagedDigest(dir, "", busyboxPath)
}

// StagedDigest is SourceDigest with the files under staged (see Prepare) between
// those of dir and busybox, in byte order of their relative paths, as
// scripts/build-images.sh digests an image with a prepare.sh. staged "" is none.
func StagedDigest(dir, staged, busyboxPath string) (string, error) {
	files, err := sourceFiles(dir)
	if err != nil {
		return "", err
	}
	paths := filesIn(dir, files)
	if staged != "" {
		more, err := sourceFiles(staged)
		if err != nil {
			return "", err
		}
		paths = append(paths, filesIn(staged, more)...)
	}
	h := sha256.New()
	for _, p := range append(paths, busyboxPath) {
		f, err := os.Open(p)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func filesIn(dir string, rel []string) []string {
	out := make([]string, len(rel))
	for i, f := range rel {
		out[i] = filepath.Join(dir, filepath.FromSlash(f))
	}
	return out
}

// sourceFiles lists the regular files under dir as slash-separated relative
// paths, sorted bytewise (as `find . -type f | LC_ALL=C sort` does).
func sourceFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			files = append(files, "./"+filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("image sources: %w", err)
	}
	slices.Sort(files)
	for i := range files {
		files[i] = strings.TrimPrefix(files[i], "./")
	}
	return files, nil
}

func isStatic(path string) (bool, error) {
	f, err := elf.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false, nil
		}
	}
	return true, nil
}

// RepoRoot returns the directory holding the module's go.mod, found by walking
// up from the working directory (a package directory under go test).
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, err := findRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// ContainerLabels returns labels for the containers the test creates,
// {TestLabel: <unique value for this test>}, and registers CleanupContainers
// for that value.
func ContainerLabels(t testing.TB, cli *client.Client) map[string]string {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	value := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, t.Name()) + "-" + hex.EncodeToString(b[:])
	CleanupContainers(t, cli, value)
	return map[string]string{TestLabel: value}
}

// CleanupContainers registers a t.Cleanup that force-removes, with their
// anonymous volumes, all containers labelled TestLabel=labelValue, whether
// the test passed or not.
func CleanupContainers(t testing.TB, cli *client.Client, labelValue string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		list, err := cli.ContainerList(ctx, container.ListOptions{
			All:     true,
			Filters: filters.NewArgs(filters.Arg("label", TestLabel+"="+labelValue)),
		})
		if err != nil {
			t.Errorf("cleanup: list containers labelled %s=%s: %v", TestLabel, labelValue, err)
			return
		}
		for _, c := range list {
			err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
			if err != nil && !client.IsErrNotFound(err) {
				t.Errorf("cleanup: remove container %s: %v", c.ID, err)
			}
		}
	})
}
