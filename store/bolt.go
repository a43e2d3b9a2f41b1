package store

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

var bucket = []byte("gantry")

// Bolt is the embedded store: a single bbolt file, fsynced on every Apply.
type Bolt struct {
	db   *bolt.DB
	path string
	// writing serialises Apply and unmap: bbolt may move its mapping during a write, and
	// unmap must never advise on an address range that is no longer the store's.
	writing sync.Mutex
	closed  bool // under writing
}

// OpenBolt opens (creating when missing) the store file under dir. A second server on
// the same directory is refused rather than left waiting on the file lock.
func OpenBolt(dir string) (*Bolt, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, "gantry.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, FreelistType: bolt.FreelistMapType, NoFreelistSync: true})
	if err != nil {
		return nil, fmt.Errorf("open store %s (is another gantry server using it?): %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("initialise store %s: %w", path, err)
	}
	return &Bolt{db: db, path: path}, nil
}

func (s *Bolt) Get(_ context.Context, key string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucket).Get([]byte(key))
		if v == nil {
			return fmt.Errorf("key %q: %w", key, ErrNotFound)
		}
		out = bytes.Clone(v)
		return nil
	})
	return out, err
}

func (s *Bolt) List(ctx context.Context, prefix string, fn func(string, []byte) error) error {
	defer s.unmapLocked()
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		p := []byte(prefix)
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(string(k), v); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Bolt) Apply(_ context.Context, b *Batch) error {
	if b.Len() == 0 {
		return nil
	}
	s.writing.Lock()
	defer s.writing.Unlock()
	defer s.unmap()
	return s.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucket)
		for k, v := range b.Puts {
			if err := bk.Put([]byte(k), v); err != nil {
				return fmt.Errorf("put %s: %w", k, err)
			}
		}
		for _, k := range b.Deletes {
			if err := bk.Delete([]byte(k)); err != nil {
				return fmt.Errorf("delete %s: %w", k, err)
			}
		}
		return nil
	})
}

func (s *Bolt) Close() error {
	s.writing.Lock()
	defer s.writing.Unlock()
	s.closed = true
	return s.db.Close()
}

// unmapLocked drops the store's pages from this process's resident memory. The store is read
// once at start and otherwise only written (through the file, not the mapping), so the
// pages bbolt's read-only mapping pulls in would sit in the server's RSS for nothing; the
// kernel keeps them in its page cache and faults them back in if they are read again.
func (s *Bolt) unmapLocked() {
	s.writing.Lock()
	defer s.writing.Unlock()
	s.unmap()
}

// unmap is unmapLocked for a caller that holds s.writing.
func (s *Bolt) unmap() {
	if s.closed {
		return
	}
	info, err := os.Stat(s.path)
	if err != nil || info.Size() == 0 {
		return
	}
	unix.Syscall(unix.SYS_MADVISE, s.db.Info().Data, uintptr(info.Size()), unix.MADV_DONTNEED)
}
