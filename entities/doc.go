// Package entities is Gantry's runtime model: the entity tree (applications, their
// children), config with inheritance, attributes (sensor values) published on a bus,
// effectors declared as data, tasks that record every effector call, the lifecycle state
// logic, and Management, which owns every application, persists it through a store and
// rebinds it after a restart.
//
// Built-in kinds live in sub-packages (entities/stock, entities/container,
// entities/software) and register their Type in init().
//
// $brooklyn: DSL values stay as written in the config; an entity's start evaluates them
// (dsl.go), waiting for other entities' sensors where they say so, and Config returns the
// results from then on.
//
// brooklyn.parameters and brooklyn.initializers give one entity a type of its own
// (initializers.go): its kind's, plus the config keys the parameters declare and the
// sensors, effectors and feeds the initializers add; both are persisted with the entity.
//
// Sensor values travel on the sensors.Bus; the other things that happen (entities
// added and removed, tasks started, writing output and ended, adjunct highlights) are
// told to whoever Watches the Management (events.go).
//
// It imports blueprints (the DSL's syntax and pure functions), sensors (the bus and sensor names),
// locations (the contracts kinds bind to) and store (the key-value contract whose
// contents this package decides).
package entities
