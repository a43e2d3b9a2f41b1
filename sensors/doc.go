// Package sensors holds what Gantry knows about sensor values: the names of the
// well-known sensors, the events published when a value changes, and the bus that
// carries them to subscribers (state aggregation, the REST event stream, policies).
//
// It also holds the pure parts of feeds and enrichers (enrich.go): Brooklyn's
// aggregations and quorum checks (Aggregation, ParseQuorumCheck), and small value types
// that turn a stream of values into another (Delta, TimeWeightedDelta, RollingMean,
// RollingTimeWindowMean), with time passed in so that they are deterministic; and the
// expr-lang expressions of DynamicGroup filters, Transformer enrichers and rule
// policies, with the one environment they all see (expr.go: Compile, Env).
//
// It imports nothing of Gantry's (an entity is only ever an id, or an Env, here), only
// the standard library and github.com/expr-lang/expr.
package sensors
