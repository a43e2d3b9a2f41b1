package main

import (
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// storeStats says what the embedded store holds, to compare with its size on disk.
type storeStats struct {
	Entities    int   `json:"entities"`
	EntityBytes int64 `json:"entity_bytes"` // keys and values
	Tasks       int   `json:"tasks"`
	TaskBytes   int64 `json:"task_bytes"`
	OtherBytes  int64 `json:"other_bytes"`
	PageSize    int   `json:"page_size"`
	Pages       int   `json:"pages"`      // of the file
	DataPages   int   `json:"data_pages"` // branch, leaf and overflow pages of the records
	// The largest entity and task records, in bytes.
	MaxEntity int `json:"max_entity_bytes"`
	MaxTask   int `json:"max_task_bytes"`
}

// readStoreStats opens a stopped server's store read-only and sums up its records.
func readStoreStats(path string) (*storeStats, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	st := &storeStats{PageSize: db.Info().PageSize}
	err = db.View(func(tx *bolt.Tx) error {
		st.Pages = int(tx.Size()) / st.PageSize
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
			bs := b.Stats()
			st.DataPages += bs.BranchPageN + bs.BranchOverflowN + bs.LeafPageN + bs.LeafOverflowN
			return b.ForEach(func(k, v []byte) error {
				n := int64(len(k) + len(v))
				switch key := string(k); {
				case strings.HasPrefix(key, "entities/"):
					st.Entities++
					st.EntityBytes += n
					st.MaxEntity = max(st.MaxEntity, len(v))
				case strings.HasPrefix(key, "tasks/"):
					st.Tasks++
					st.TaskBytes += n
					st.MaxTask = max(st.MaxTask, len(v))
				default:
					st.OtherBytes += n
				}
				return nil
			})
		})
	})
	return st, err
}
