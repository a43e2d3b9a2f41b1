package store

import (
	"context"
	"errors"
)

// ErrNotFound is returned by Get for a key that has no value.
var ErrNotFound = errors.New("not found")

// Batch is a set of writes applied atomically: every Put and every Delete, or none.
type Batch struct {
	Puts    map[string][]byte
	Deletes []string
}

// Put records a write of value under key.
func (b *Batch) Put(key string, value []byte) {
	if b.Puts == nil {
		b.Puts = make(map[string][]byte)
	}
	b.Puts[key] = value
}

// Delete records the removal of key.
func (b *Batch) Delete(key string) { b.Deletes = append(b.Deletes, key) }

// Len is the number of writes in the batch.
func (b *Batch) Len() int { return len(b.Puts) + len(b.Deletes) }

// Store is a durable key-value space. Apply returns once the batch is on disk (or on a
// quorum, for a replicated store).
type Store interface {
	Get(ctx context.Context, key string) ([]byte, error)
	// List calls fn for every key with the prefix, in key order. The value is only valid
	// during the call.
	List(ctx context.Context, prefix string, fn func(key string, value []byte) error) error
	Apply(ctx context.Context, b *Batch) error
	Close() error
}
