// Package testenv is test support shared by every package's tests: a real
// Docker Engine (RequireDocker), the locally built images gantry/busybox
// (BusyboxImage) and gantry/haproxy (HAProxyImage, from Debian's haproxy staged
// by images/haproxy/prepare.sh, see Prepare), labels that let a test remove
// every container it made (ContainerLabels, CleanupContainers); and real
// OpenSSH servers on loopback ports acting as SSH machines (StartSSHD, each
// with its own host key, authorized keys and optionally a password; NewSSHKey).
//
// When no Docker Engine answers, or there is no sshd or haproxy, tests that need
// them are skipped, except when CI=true, where they fail: CI never silently
// skips. scripts/ensure-docker.sh installs and starts an engine on Debian;
// scripts/ensure-sshd.sh installs openssh-server; scripts/ensure-haproxy.sh
// installs haproxy.
//
// It imports the Docker client, golang.org/x/crypto/ssh and the standard
// library, nothing of Gantry's, so any package's tests (internal or external)
// may import it.
package testenv
