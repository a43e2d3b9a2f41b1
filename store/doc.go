// Package store is Gantry's persistence contract: a flat key-value space written in
// batches. What the keys and values mean is decided by the packages that use it
// (entities keeps one record per entity and per task). The embedded implementation is
// bbolt; an etcd one arrives with high availability.
//
// It imports nothing of Gantry's.
package store
