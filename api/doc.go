// Package api holds the wire types of Gantry's REST API v1: Go structs whose JSON
// encoding matches what Apache Brooklyn's server sends and accepts, so that
// Brooklyn's own `br` CLI (apache/brooklyn-client) and other Brooklyn clients work
// against Gantry unmodified.
//
// Each type names the Brooklyn class it mirrors (org.apache.brooklyn.rest.domain.*
// unless said otherwise). The JSON keys are Brooklyn's *field* names: Brooklyn's
// REST object mapper serialises private fields, not getters, which is why a task
// says "isError" and "isCancelled" rather than "error" and "cancelled". Values that
// Brooklyn leaves out when null are tagged omitempty here; collections that Brooklyn
// always sends (a task's "tags", "children" and "links", an application's
// "locations") are not, so a server should fill them with empty, non-nil values.
//
// A few conventions of Brooklyn's wire format that the types cannot enforce:
//
//   - Times are epoch milliseconds (UTC) in int64 fields ending in "Utc"; a time that
//     has not happened yet is left out (zero here).
//   - Links are server-relative paths such as "/v1/applications/{app}/entities/{id}",
//     not absolute URLs. The Location header of a 201 is absolute.
//   - Enumerations travel as the Java enum name: Status "RUNNING", Lifecycle
//     "ON_FIRE" (upper case, underscore), ManagementNodeState "MASTER".
//   - Errors are an ApiError body with the HTTP status: {"message": "...",
//     "details": "...", "error": 404}. Clients read "message", which must be a string.
//
// ROUTES.md in this directory lists every route the br CLI calls, with methods,
// content types, bodies and status codes: the checklist for the server.
//
// This package imports nothing of Gantry's and only the standard library; the
// server, the client package and the CLI import it.
package api
