// Package stock registers Brooklyn's stock kinds: BasicApplication, the root of every
// deployed tree, and BasicEntity, a grouping node with no behaviour of its own.
//
// It imports entities.
package stock
