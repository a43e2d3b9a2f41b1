// Package policies holds Gantry's adjunct kinds: the policies (the autoscaler, Brooklyn's
// AutoScalerPolicy with Apache Stratos's multi-factor, predictive scaling; the HA trio of
// failure detector, restarter and replacer; the periodic effector policy; a rule policy,
// an expr-lang condition over sensors that calls an effector) and the enrichers
// (enrichers.go). Each kind registers with entities.RegisterAdjunct under Brooklyn's Java
// type name and a short alias, with its config keys declared as data.
//
// Each policy is split in two, as DESIGN asks of anything that decides:
//
//   - decide_*.go are pure functions: configuration, history and the current time in, a
//     decision out (a resize, restart or give up, events to emit, the next wake-up time).
//     They do no I/O, start no goroutine and never read the clock: time is an argument,
//     so that table tests drive them with a simulated clock (the square-wave test of the
//     autoscaler is one).
//   - the kinds (autoscaler.go, detector.go, restarter.go, replacer.go, periodic.go,
//     rule.go, with support.go) wire those functions to entities through the adjunct
//     framework of package entities: they subscribe to sensors, keep their history in
//     the adjunct's persisted memory (so that after a server restart nothing is done
//     twice), and act only by invoking effectors.
//
// It may import entities (the model, the adjunct framework) and sensors (sensor names,
// events, expr-lang expressions); nothing imports it but the server.
package policies
