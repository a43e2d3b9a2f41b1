package software

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
)

// fetchTimeout bounds one download by the server.
const fetchTimeout = 10 * time.Minute

// download fetches download.url on the server, copies it into $INSTALL_DIR on the
// machine, and unpacks it there when it is an archive, as Brooklyn's
// VanillaSoftwareProcess does. The archive is kept.
func download(ctx context.Context, e *entities.Entity, x locations.Executor) error {
	src := e.ConfigString("download.url")
	if src == "" {
		return nil
	}
	name := path.Base(sourcePath(src))
	if name == "." || name == "/" || name == "" {
		return fmt.Errorf("download.url %s names no file", src)
	}
	dst := path.Join(installDir(e), name)
	err := entities.Step(ctx, "download "+src, func(ctx context.Context) error {
		return copyOne(ctx, x, src, dst)
	})
	if err != nil {
		return err
	}
	if unpack := unpackCommand(name); unpack != "" {
		return run(ctx, e, x, "unpack "+name, `cd "$INSTALL_DIR" && `+unpack)
	}
	return nil
}

// unpackCommand is the shell command that unpacks an archive in the current
// directory, by its name; "" for a file that is not one.
func unpackCommand(name string) string {
	q := "'" + strings.ReplaceAll(name, "'", `'\''`) + "'"
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"):
		return "tar -xzf " + q
	case strings.HasSuffix(lower, ".tar.bz2"), strings.HasSuffix(lower, ".tbz2"), strings.HasSuffix(lower, ".tbz"):
		return "tar -xjf " + q
	case strings.HasSuffix(lower, ".tar.xz"), strings.HasSuffix(lower, ".txz"):
		return "tar -xJf " + q
	case strings.HasSuffix(lower, ".tar"):
		return "tar -xf " + q
	case strings.HasSuffix(lower, ".zip"):
		// unzip where it exists, else busybox's or Python's
		return "if command -v unzip >/dev/null 2>&1; then unzip -o -q " + q +
			"; elif command -v busybox >/dev/null 2>&1; then busybox unzip -o -q " + q +
			"; else python3 -m zipfile -e " + q + " .; fi"
	}
	return ""
}

// copyFiles copies the files of key (files.install, files.runtime): a map of source (an
// http(s) URL, a file: URL, or an absolute path on the server) to destination (relative
// to base), each as a subtask.
func copyFiles(ctx context.Context, e *entities.Entity, x locations.Executor, key, base string) error {
	v, _ := e.Config(key)
	m, _ := v.(map[string]any)
	for _, src := range slices.Sorted(maps.Keys(m)) {
		dst := fmt.Sprint(m[src])
		if dst == "" || strings.HasSuffix(dst, "/") {
			dst = path.Join(dst, path.Base(sourcePath(src)))
		}
		if !path.IsAbs(dst) {
			dst = path.Join(base, dst)
		}
		err := entities.Step(ctx, "copy "+src, func(ctx context.Context) error {
			entities.Logf(ctx, "%s -> %s", src, dst)
			return copyOne(ctx, x, src, dst)
		})
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	return nil
}

// sourcePath is the path part of a source: a URL's path, or the source itself.
func sourcePath(src string) string {
	if u, err := url.Parse(src); err == nil && u.Scheme != "" && len(u.Scheme) > 1 {
		return u.Path
	}
	return src
}

// copyOne puts one source on the machine at dst.
func copyOne(ctx context.Context, x locations.Executor, src, dst string) error {
	c, ok := x.(locations.FileCopier)
	if !ok {
		return fmt.Errorf("the machine (%T) cannot receive files: %w", x, locations.ErrInvalid)
	}
	r, mode, err := open(ctx, src)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := c.CopyFile(ctx, r, dst, mode); err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	return nil
}

// open reads a source on the server: an http(s) URL is fetched, a file: URL or an
// absolute path is read (keeping its permissions).
func open(ctx context.Context, src string) (io.ReadCloser, fs.FileMode, error) {
	u, err := url.Parse(src)
	if err != nil {
		return nil, 0, fmt.Errorf("source %q: %w", src, err)
	}
	switch u.Scheme {
	case "http", "https":
		ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			cancel()
			return nil, 0, fmt.Errorf("fetch %s: %w", src, err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			return nil, 0, fmt.Errorf("fetch %s: %w", src, err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			cancel()
			return nil, 0, fmt.Errorf("fetch %s: %s", src, resp.Status)
		}
		return &cancelCloser{ReadCloser: resp.Body, cancel: cancel}, 0o644, nil
	case "file":
		src = u.Path
	case "":
	default:
		return nil, 0, fmt.Errorf("source %q: use an http(s) URL, a file: URL or an absolute path on the server (%s: is not supported)", src, u.Scheme)
	}
	if !path.IsAbs(src) {
		return nil, 0, fmt.Errorf("source %q: a path on the server must be absolute", src)
	}
	f, err := os.Open(src)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		f.Close()
		return nil, 0, fmt.Errorf("source %s: not a file", src)
	}
	return f, fi.Mode().Perm(), nil
}

type cancelCloser struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelCloser) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
