// Package ssh is the location of SSH machines: Brooklyn's "bring your own
// nodes" (byon), a fixed list of hosts reached with OpenSSH's protocol through
// golang.org/x/crypto/ssh.
//
// A Pool (kind "byon") implements locations.MachinePool: it hands one Machine
// to each entity that starts on it and remembers which entity holds which host
// (its state, saved through the Registry so that a restarted server gives
// every entity the machine it had). A Machine implements locations.Machine
// (an Executor) and locations.FileCopier:
//
//   - commands run with /bin/sh -c, their output streamed as it comes; the
//     environment is exported by the script itself (sshd may refuse SetEnv)
//     and the working directory is created when missing;
//   - files are copied with cat over the session's standard input, to a
//     temporary name renamed into place (no SFTP server needed);
//   - one connection per host, user and credentials, shared by every command
//     and every pool (the Dialer), dialled again when it breaks; dial and
//     handshake have timeouts, and failing dials are tried again a few times;
//   - key (files or PEM data, with passphrase) and password authentication,
//     the user's default keys (~/.ssh/id_*) when none is given;
//   - host keys checked against a known_hosts file: a host seen for the first
//     time is trusted and recorded there (trust on first use); a host whose
//     key changed is refused with an error (ErrHostKeyChanged) naming the
//     host, both fingerprints and how to fix it.
//
// Config of a byon location (a blueprint's `byon: {...}` or
// `byon:(k=v,...)`): hosts (a list, or Brooklyn's glob string such as
// "{10.0.0.{1,2},u@h{8-9}}"; an entry may be a map with ssh or host and its
// own keys), user, password, privateKeyFile, privateKeyData,
// privateKeyPassphrase, port, knownHostsFile, connectTimeout. See ParseConfig.
//
// It imports the locations package, golang.org/x/crypto and the standard
// library; nothing above locations.
package ssh
