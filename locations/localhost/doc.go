// Package localhost is the location of the machine Gantry itself runs on.
//
// Host implements locations.Location (id and kind "localhost", spec
// "localhost") and locations.Executor: scripts run with /bin/sh -c in their own
// process group, which is killed as a whole when the context is cancelled. It is
// also a locations.Machine (address 127.0.0.1) and a locations.FileCopier.
//
// It imports only the locations package and the standard library.
package localhost
