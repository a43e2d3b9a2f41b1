// Package testenv is test support shared by every package's tests: a real
// Docker Engine (RequireDocker), the locally built gantry/busybox image
// (BusyboxImage), and labels that let a test remove every container it made
// (ContainerLabels, CleanupContainers).
//
// When no Docker Engine answers, tests that need one are skipped, except when
// CI=true, where they fail: CI never silently skips. scripts/ensure-docker.sh
// installs and starts an engine on Debian.
//
// It imports the Docker client and the standard library, nothing of Gantry's,
// so any package's tests (internal or external) may import it.
package testenv
