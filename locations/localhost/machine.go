package localhost

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gantry-dev/gantry/locations"
)

var (
	_ locations.Machine    = (*Host)(nil)
	_ locations.FileCopier = (*Host)(nil)
)

// MachineID is "localhost".
func (h *Host) MachineID() string { return ID }

// Address is the loopback address, 127.0.0.1.
func (h *Host) Address() string { return "127.0.0.1" }

// Hostname is the machine's host name.
func (h *Host) Hostname() string { return h.hostname }

// CopyFile writes r to path with mode (0: 0644), making the parent
// directories; the content goes to a temporary file in the same directory,
// renamed into place once complete.
func (h *Host) CopyFile(ctx context.Context, r io.Reader, path string, mode fs.FileMode) error {
	if path == "" {
		return fmt.Errorf("copy to localhost: empty path: %w", locations.ErrInvalid)
	}
	if mode == 0 {
		mode = 0o644
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("copy to localhost:%s: %w", path, err)
	}
	var nonce [6]byte
	rand.Read(nonce[:])
	tmp := filepath.Join(dir, "."+filepath.Base(path)+".gantry-"+hex.EncodeToString(nonce[:]))
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode.Perm())
	if err != nil {
		return fmt.Errorf("copy to localhost:%s: %w", path, err)
	}
	_, err = io.Copy(f, ctxReader{ctx, r})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, mode.Perm()) // not reduced by the umask
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("copy to localhost:%s: %w", path, err)
	}
	return nil
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
