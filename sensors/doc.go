// Package sensors holds what Gantry knows about sensor values: the names of the
// well-known sensors, the events published when a value changes, and the bus that
// carries them to subscribers (state aggregation, the REST event stream, policies).
// Feeds and enrichers arrive here with the policies work.
//
// It imports nothing of Gantry's: an entity is only ever an id here.
package sensors
