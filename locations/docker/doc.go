// Package docker is the Docker Engine location: an Engine implements
// locations.Location and locations.ContainerHost over the Docker Engine API
// (github.com/docker/docker/client), with the API version negotiated.
//
// Images are never pulled: a container's image must already be on the engine
// (Gantry's images are built locally, see scripts/build-images.sh), and a
// missing one is an error wrapping ErrImageNotFound (and
// locations.ErrNotFound) that says how to build it.
//
// Engines other than the environment's are locations made from specs
// (Provider): docker:tcp://HOST:2376, or docker with config endpoint and the
// TLS client files tls.cert, tls.key and tls.ca (ParseOptions, Dial).
//
// RunContainer costs exactly three API round trips (create, start, inspect);
// the missing-image check is made only after a failed create. Container
// lifecycle is watched from the engine's event stream, not by polling.
//
// It imports the locations package, the Docker client and the standard
// library; nothing above locations.
package docker
