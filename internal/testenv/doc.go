// Package testenv is test support shared by every package's tests: a real
// Docker Engine (RequireDocker), the locally built images gantry/busybox
// (BusyboxImage) and gantry/haproxy (HAProxyImage, from Debian's haproxy staged
// by images/haproxy/prepare.sh, see Prepare), labels that let a test remove
// every container it made (ContainerLabels, CleanupContainers) and every Docker
// network too (NetworkLabels, CleanupNetworks); and real
// OpenSSH servers on loopback ports acting as SSH machines (StartSSHD, each
// with its own host key, authorized keys and optionally a password; NewSSHKey).
//
// Several real Docker Engines (Engines): extra dockerd instances on this
// machine, each with its own socket, data root, bridge and address pool, one
// reached over TCP with TLS, started by scripts/engines.sh (`make engines`). They
// cost seconds to start, so they are shared (by the tests of a process, and by
// concurrent test processes through the script's lock) and left running after
// the tests; `make engines-down` removes them. Tests remove what they create on
// them, as on the main engine (ContainerLabels).
//
// A private etcd server per test (StartEtcd): Debian's etcd-server binary on two
// free loopback ports with its own data directory under the test's temporary
// directory, stopped when the test ends; no system service is involved.
//
// When no Docker Engine answers, or there is no sshd, haproxy or etcd, tests that need
// them are skipped, except when CI=true, where they fail: CI never silently
// skips. scripts/ensure-docker.sh installs and starts an engine on Debian;
// scripts/ensure-sshd.sh installs openssh-server; scripts/ensure-haproxy.sh
// installs haproxy; scripts/ensure-etcd.sh installs etcd-server.
//
// It imports the Docker client, golang.org/x/crypto/ssh and the standard
// library, nothing of Gantry's, so any package's tests (internal or external)
// may import it.
package testenv
