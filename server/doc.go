// Package server wires Gantry together — the store, the locations, Management, the
// Docker event watchers — and serves the REST API v1, shaped like Apache Brooklyn's so
// that Brooklyn's own `br` client works against it. Handlers are thin: decode, call one
// method of Management (or catalog), encode with the shapes of package api. Errors map to
// HTTP status codes in one place (errors.go).
//
// It imports everything below it and nothing imports it.
package server
