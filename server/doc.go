// Package server wires Gantry together — the store, the locations, Management, the
// Docker event watchers — and serves the REST API v1, shaped like Apache Brooklyn's so
// that Brooklyn's own `br` client works against it. Handlers are thin: decode, call one
// method of Management (or catalog), encode with the shapes of package api. Errors map to
// HTTP status codes in one place (errors.go).
//
// Around the API: logging in and roles (auth.go, with the users file in users.go), one
// middleware for every route; secrets masked in every answer, event and log line
// (secrets.go); and the live event stream GET /v1/events (events.go).
//
// It imports everything below it and nothing imports it.
package server
