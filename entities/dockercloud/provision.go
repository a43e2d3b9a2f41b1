package dockercloud

// Hosts Gantry makes on machines: a docker-host without docker.host.endpoint takes a
// machine of its location (a byon pool's, through locations.MachinePool, or localhost),
// installs the Docker Engine when it is missing, copies the TLS certificates it made
// (certs.go) into a root-only directory there, starts dockerd with --tlsverify on a TCP
// port as a service (scripts.go), waits until it answers over TLS, and is then a host
// like any other, reached at tcp://<machine address>:<port> with Gantry's client
// certificate. Stop stops that dockerd; destroy removes what Gantry put on the machine
// (not the Docker package) and gives the machine back. Rebind connects again and
// starts nothing when the engine answers.
//
// Where the certificates live: the CA (and its key), Gantry's client certificate and
// each host's server certificate are PEM text in sensors of the infrastructure and the
// hosts (docker.tls.generated.*), persisted in the store with the entities and so kept
// across restarts and servers (bbolt or etcd). The private keys are sensors named
// *.privateKey: the server masks every value of a key whose name says "private", and
// every PEM private key whatever its key, in REST answers, the event stream and its
// logs. They are never written to a file on the server; on the machine they go to
// /etc/gantry-docker/<host>/ (mode 0700, root's), never to /tmp (a non-root login
// stages them under its own ~/.gantry-docker, mode 0700, before sudo moves them).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/sensors"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/docker"
)

// tlsMu serialises the making of an infrastructure's CA and client certificate: its
// hosts start in parallel.
var tlsMu sync.Mutex

// machineHost says whether the host's engine is one Gantry runs on a machine: a host
// without an endpoint.
func machineHost(h *entities.Entity) bool {
	return strings.TrimSpace(h.ConfigString(KeyEndpoint)) == ""
}

// endpointOf is where the host's engine answers: its endpoint, or that of the engine
// Gantry runs on its machine ("" until it runs).
func endpointOf(h *entities.Entity) string {
	if !machineHost(h) {
		return h.ConfigString(KeyEndpoint)
	}
	s, _ := attr(h, SensorEndpoint).(string)
	return s
}

// tlsHolder is the entity that holds the CA of a host's engine: its infrastructure, or
// the host itself when it is in none.
func tlsHolder(h *entities.Entity) *entities.Entity {
	if infra := infraOf(h); infra != nil {
		return infra
	}
	return h
}

func attrString(e *entities.Entity, name string) string {
	s, _ := attr(e, name).(string)
	return s
}

// machineEngineOptions says how to reach the engine Gantry runs on the host's machine:
// its endpoint, the CA and the client certificate, all from the store.
func machineEngineOptions(h *entities.Entity) (docker.Options, error) {
	ep := endpointOf(h)
	if ep == "" {
		return docker.Options{}, fmt.Errorf("%s has no %s and its engine on a machine was not started yet: %w", h, KeyEndpoint, entities.ErrInvalid)
	}
	holder := tlsHolder(h)
	o := docker.Options{Endpoint: ep, TLSCA: attrString(holder, SensorTLSCA), TLSCert: attrString(holder, SensorTLSClientCert), TLSKey: attrString(holder, SensorTLSClientKey)}
	if o.TLSCA == "" || o.TLSCert == "" || o.TLSKey == "" {
		return o, fmt.Errorf("%s: the TLS certificates of its engine are missing from %s (%s): start it again to make them: %w",
			h, holder, SensorTLSCA, entities.ErrInvalid)
	}
	return o, nil
}

// configBool reads a boolean config value (true, "true").
func configBool(e *entities.Entity, key string, def bool) bool {
	v, ok := e.Config(key)
	if !ok || v == nil || v == "" {
		return def
	}
	switch x := v.(type) {
	case bool:
		return x
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "1":
			return true
		case "false", "no", "0":
			return false
		}
	}
	return def
}

// planOf is the daemon plan the host's config asks for (its port may be 0, its bridge
// not chosen yet: the machine chooses them, see prepareScript).
func planOf(h *entities.Entity) (daemonPlan, error) {
	p := daemonPlan{ID: h.ID(), Port: DefaultHostPort, Listen: "0.0.0.0"}
	if v, ok := h.Config(KeyHostPort); ok && v != nil && v != "" {
		f, ok := sensors.Number(v)
		if !ok || f != float64(int(f)) {
			return p, kindError(h, KeyHostPort, fmt.Errorf("%v: want a TCP port: %w", v, entities.ErrInvalid))
		}
		p.Port = int(f)
	}
	if s := strings.TrimSpace(h.ConfigString(KeyHostListen)); s != "" {
		p.Listen = s
	}
	p.Isolated = configBool(h, KeyHostIsolated, false)
	if p.Isolated {
		p.BridgeCIDR = strings.TrimSpace(h.ConfigString(KeyHostBridgeCIDR))
		p.Pool = strings.TrimSpace(h.ConfigString(KeyHostAddressPool))
	}
	if err := p.check(); err != nil {
		return p, fmt.Errorf("%s: %v: %w", h, err, entities.ErrInvalid)
	}
	return p, nil
}

// planNow is the plan the host's engine was last started with, else its config's.
func planNow(h *entities.Entity) daemonPlan {
	if p, ok := planFromSensor(attr(h, SensorDaemon)); ok && p.ID == h.ID() {
		return p
	}
	p, _ := planOf(h)
	p.ID = h.ID()
	return p
}

// hostLocation is the machine location of a host without an endpoint: its own, else its
// nearest ancestor's.
func hostLocation(h *entities.Entity) (locations.Location, error) {
	l, err := entities.LocationOf[locations.Location](h, "a location")
	if err != nil {
		return nil, fmt.Errorf("%s has no %s and no machine location to install an engine on: give it an endpoint, or a location such as byon or localhost (%v): %w",
			h, KeyEndpoint, err, entities.ErrInvalid)
	}
	if !locations.RunsCommands(l) {
		return nil, fmt.Errorf("%s has no %s and its location %s is a %s location, which hands out no machine: give it an endpoint, or a machine location such as byon or localhost: %w",
			h, KeyEndpoint, l.ID(), l.Kind(), entities.ErrInvalid)
	}
	return l, nil
}

// heldMachine is the machine the host holds in its location (localhost is its own).
func heldMachine(h *entities.Entity) (locations.Executor, bool) {
	l, err := hostLocation(h)
	if err != nil {
		return nil, false
	}
	switch x := l.(type) {
	case locations.MachinePool:
		m, ok := x.Holding(h.ID())
		return m, ok
	case locations.Executor:
		return x, true
	}
	return nil, false
}

func machineName(x locations.Executor) string {
	if m, ok := x.(locations.Machine); ok {
		return m.MachineID()
	}
	return "the machine"
}

// ensureClientTLS returns the CA of the holder's engines and Gantry's client
// certificate, making them (and keeping them in its sensors) when they are missing,
// broken or about to end.
func ensureClientTLS(ctx context.Context, holder *entities.Entity) (ca, client certPair, err error) {
	tlsMu.Lock()
	defer tlsMu.Unlock()
	now := time.Now()
	ca = certPair{Cert: attrString(holder, SensorTLSCA), Key: attrString(holder, SensorTLSCAKey)}
	if ca.Cert == "" || checkCA(ca, now) != nil {
		if ca.Cert != "" {
			entities.Logf(ctx, "the CA of %s does not do (%v): making a new one; engines started with the old one get new certificates when they start again", holder.Name(), checkCA(ca, now))
		}
		if ca, err = newCA("Gantry Docker CA of "+holder.Name()+" ("+holder.ID()+")", now); err != nil {
			return ca, client, err
		}
		holder.SetAttribute(SensorTLSCA, ca.Cert)
		holder.SetAttribute(SensorTLSCAKey, ca.Key)
		entities.Logf(ctx, "made a CA (ECDSA P-256) for the engines of %s", holder.Name())
	}
	client = certPair{Cert: attrString(holder, SensorTLSClientCert), Key: attrString(holder, SensorTLSClientKey)}
	if client.Cert == "" || checkLeaf(ca.Cert, client, useClient, nil, now) != nil {
		if client, err = issue(ca, useClient, "gantry", nil, now); err != nil {
			return ca, client, err
		}
		holder.SetAttribute(SensorTLSClientCert, client.Cert)
		holder.SetAttribute(SensorTLSClientKey, client.Key)
		entities.Logf(ctx, "made Gantry's client certificate for the engines of %s", holder.Name())
	}
	return ca, client, nil
}

// ensureServerTLS returns the host's server certificate for names, making it when it is
// missing, not signed by ca, does not cover every name, or is about to end.
func ensureServerTLS(ctx context.Context, h *entities.Entity, ca certPair, names []string) (certPair, error) {
	cur := certPair{Cert: attrString(h, SensorTLSServerCert), Key: attrString(h, SensorTLSServerKey)}
	if cur.Cert != "" {
		err := checkLeaf(ca.Cert, cur, useServer, names, time.Now())
		if err == nil {
			entities.Logf(ctx, "the server certificate for %s is kept", strings.Join(names, ", "))
			return cur, nil
		}
		entities.Logf(ctx, "the server certificate does not do (%v): making a new one", err)
	}
	s, err := issue(ca, useServer, h.Name(), names, time.Now())
	if err != nil {
		return s, err
	}
	h.SetAttribute(SensorTLSServerCert, s.Cert)
	h.SetAttribute(SensorTLSServerKey, s.Key)
	entities.Logf(ctx, "made a server certificate for %s", strings.Join(names, ", "))
	return s, nil
}

// scriptOpts say how execScript runs a script.
type scriptOpts struct {
	root  bool // as root (sudo -n when the login is not root)
	quiet bool // its output is not copied into the task
}

// scriptExit is a script that ran and exited non-zero.
type scriptExit struct {
	code int
	msg  string // the end of its standard error (else output)
}

func (e *scriptExit) Error() string { return fmt.Sprintf("exit code %d: %s", e.code, e.msg) }

// execScript runs script on x and returns its standard output; its output goes into
// the task of ctx as it comes (unless quiet). A script that exits non-zero is an error
// with the end of its standard error.
func execScript(ctx context.Context, x locations.Executor, script string, o scriptOpts) (string, error) {
	var stdout, stderr bytes.Buffer
	var so, se io.Writer = &stdout, &stderr
	if t := entities.TaskFrom(ctx); t != nil && !o.quiet {
		so, se = io.MultiWriter(&stdout, t.Stdout()), io.MultiWriter(&stderr, t.Stderr())
	}
	if o.root {
		script = asRoot(script)
	}
	code, err := x.Exec(ctx, locations.Command{Script: script, Stdout: so, Stderr: se})
	if err != nil {
		return stdout.String(), err
	}
	if code != 0 {
		msg := lastLines(stderr.String(), 5)
		if msg == "" {
			msg = lastLines(stdout.String(), 5)
		}
		return stdout.String(), &scriptExit{code: code, msg: msg}
	}
	return stdout.String(), nil
}

// runStep runs script as root on x as a subtask named title.
func runStep(ctx context.Context, x locations.Executor, title, script string) (string, error) {
	var out string
	err := entities.Step(ctx, title, func(ctx context.Context) error {
		var err error
		out, err = execScript(ctx, x, script, scriptOpts{root: true})
		if err != nil {
			return fmt.Errorf("%s on %s: %w", strings.ToLower(title[:1])+title[1:], machineName(x), err)
		}
		return nil
	})
	return out, err
}

// copyCerts puts the engine's CA and server certificate into its certificate
// directory on the machine, root's only: directly when the login is root, else through
// a directory of the login's own (~/.gantry-docker, mode 0700) that sudo empties.
func copyCerts(ctx context.Context, x locations.Executor, p daemonPlan, ca, server certPair) error {
	c, ok := x.(locations.FileCopier)
	if !ok {
		return fmt.Errorf("%s cannot receive files, so the engine's certificates cannot be put there: %w", machineName(x), locations.ErrInvalid)
	}
	files := []struct{ name, text string }{{fileCA, ca.Cert}, {fileServerCert, server.Cert}, {fileServerKey, server.Key}}
	uid, err := execScript(ctx, x, "id -u", scriptOpts{quiet: true})
	if err != nil {
		return fmt.Errorf("who logs in on %s: %w", machineName(x), err)
	}
	dir, stage := p.CertDir(), ""
	if strings.TrimSpace(uid) != "0" {
		out, err := execScript(ctx, x, `umask 077 && mkdir -p "$HOME/.gantry-docker" && mktemp -d "$HOME/.gantry-docker/certs.XXXXXX"`, scriptOpts{quiet: true})
		if err != nil {
			return fmt.Errorf("make a private directory for the certificates on %s: %w", machineName(x), err)
		}
		stage = strings.TrimSpace(out)
		dir = stage
	} else if _, err := execScript(ctx, x, certDirScript(p, ""), scriptOpts{root: true}); err != nil {
		return fmt.Errorf("make %s on %s: %w", p.CertDir(), machineName(x), err)
	}
	for _, f := range files {
		if err := c.CopyFile(ctx, strings.NewReader(f.text), dir+"/"+f.name, 0o600); err != nil {
			return fmt.Errorf("copy %s to %s: %w", f.name, machineName(x), err)
		}
	}
	if stage != "" {
		if _, err := execScript(ctx, x, certDirScript(p, stage), scriptOpts{root: true}); err != nil {
			return fmt.Errorf("move the certificates into %s on %s: %w", p.CertDir(), machineName(x), err)
		}
	}
	entities.Logf(ctx, "%s, %s and %s in %s (mode 0700) on %s", fileCA, fileServerCert, fileServerKey, p.CertDir(), machineName(x))
	return nil
}

// startMachineHost makes the host's engine run on a machine of its location, as the
// package comment says, and leaves the host's endpoint set to it.
func startMachineHost(ctx context.Context, h *entities.Entity) error {
	loc, err := hostLocation(h)
	if err != nil {
		return err
	}
	p, err := planOf(h)
	if err != nil {
		return err
	}
	var x locations.Executor
	err = entities.Step(ctx, "Obtain a machine of "+loc.DisplayName(), func(ctx context.Context) error {
		var err error
		if x, err = locations.ExecutorFor(ctx, loc, h.ID()); err != nil {
			return err
		}
		if m, ok := x.(locations.Machine); ok {
			h.SetAttribute(SensorMachine, m.MachineID())
			entities.Logf(ctx, "machine %s (address %s)", m.MachineID(), m.Address())
		}
		return nil
	})
	if err != nil {
		return err
	}
	address := strings.TrimSpace(h.ConfigString(KeyHostAddress))
	var names []string
	if m, ok := x.(locations.Machine); ok {
		if address == "" {
			address = m.Address()
		}
		names = certHosts(address, m.Address(), m.Hostname())
	} else {
		names = certHosts(address)
	}
	if address == "" {
		return fmt.Errorf("%s: the machine has no address Gantry knows: set %s: %w", h, KeyHostAddress, entities.ErrInvalid)
	}

	var ca, server certPair
	err = entities.Step(ctx, "Make the TLS certificates", func(ctx context.Context) error {
		var err error
		if ca, _, err = ensureClientTLS(ctx, tlsHolder(h)); err != nil {
			return err
		}
		server, err = ensureServerTLS(ctx, h, ca, names)
		return err
	})
	if err != nil {
		return err
	}
	if configBool(h, KeyHostInstall, true) {
		if _, err := runStep(ctx, x, "Install the Docker Engine when it is missing", installScript(p.Isolated)); err != nil {
			return err
		}
	}
	title := "Choose the engine's port"
	if p.Isolated {
		title += " and bridge"
	}
	out, err := runStep(ctx, x, title, prepareScript(p))
	if err != nil {
		return err
	}
	port, bridge, err := parsePrepared(out)
	if err != nil {
		return err
	}
	p.Port = port
	if p.Isolated {
		p.BridgeCIDR = bridge
	}
	if err := p.check(); err != nil {
		return fmt.Errorf("%s: %v: %w", h, err, entities.ErrInvalid)
	}
	err = entities.Step(ctx, "Copy the TLS certificates to "+p.CertDir(), func(ctx context.Context) error {
		return copyCerts(ctx, x, p, ca, server)
	})
	if err != nil {
		return err
	}
	if _, err := runStep(ctx, x, "Start dockerd", startScript(p, launchSum(p, ca.Cert, server.Cert))); err != nil {
		return err
	}
	ep := p.Endpoint(address)
	h.SetAttribute(SensorDaemon, p.sensor(address))
	h.SetAttribute(SensorEndpoint, ep)
	dropEngine(h) // a connection made before (another port, other certificates) is not used
	timeout := h.ConfigDuration(KeyHostStartTimeout, 2*time.Minute)
	err = entities.Step(ctx, "Wait for the engine at "+ep+" to answer over TLS", func(ctx context.Context) error {
		return waitEngine(ctx, h, x, p, ep, timeout)
	})
	if err != nil {
		return err
	}
	if p.Isolated {
		if _, err := execScript(ctx, x, checkScript(p), scriptOpts{root: true}); err != nil {
			return fmt.Errorf("%s: %w", h, err)
		}
	}
	return nil
}

// waitEngine waits until the host's engine answers over TLS, for up to timeout; it
// fails early when dockerd exited on the machine, with the end of its log.
func waitEngine(ctx context.Context, h *entities.Entity, x locations.Executor, p daemonPlan, ep string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for i := 1; ; i++ {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		eng, err := engineOf(actx, h)
		if err == nil {
			var info docker.Info
			if info, err = eng.Info(actx); err == nil {
				cancel()
				entities.Logf(ctx, "Docker %s answers at %s, its certificate verified against the CA", info.ServerVersion, ep)
				return nil
			}
		}
		cancel()
		last = err
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if i%4 == 0 {
			out, serr := execScript(ctx, x, statusScript(p), scriptOpts{root: true, quiet: true})
			if serr == nil && strings.HasPrefix(strings.TrimSpace(out), "exited") {
				return fmt.Errorf("dockerd exited on %s; the end of its log: %s", machineName(x), lastLines(strings.TrimPrefix(strings.TrimSpace(out), "exited"), 10))
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the engine at %s does not answer over TLS within %s: %w", ep, timeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// stopMachineHost stops the engine Gantry runs on the host's machine; its files stay.
// A host that holds containers of the cloud is not stopped (they would die with it).
func stopMachineHost(ctx context.Context, h *entities.Entity) error {
	if c := cloudOfHost(h); c != nil {
		if ids := c.onHost(h.ID()); len(ids) > 0 {
			return fmt.Errorf("%s holds %d container(s) (%s): its engine is not stopped while they run; remove or move them first: %w",
				h.Name(), len(ids), shortList(ids), entities.ErrConflict)
		}
	}
	dropEngine(h)
	x, ok := heldMachine(h)
	if !ok {
		return nil // it never had a machine
	}
	_, err := runStep(ctx, x, "Stop dockerd on "+machineName(x), stopScript(planNow(h)))
	return err
}

// destroyMachineHost removes what Gantry put on the host's machine and gives the
// machine back. A machine that cannot be reached is given back with a warning (what is
// there stays); a removal that fails there keeps the host, so that it can be tried
// again.
func destroyMachineHost(ctx context.Context, h *entities.Entity) error {
	loc, err := hostLocation(h)
	if err != nil {
		return nil // no machine location (any more): nothing held
	}
	if x, ok := heldMachine(h); ok {
		_, err := runStep(ctx, x, "Remove the Docker Engine of "+h.Name()+" from "+machineName(x), destroyScript(planNow(h)))
		var exit *scriptExit
		switch {
		case errors.As(err, &exit):
			return err // it ran there and failed: the host stays, to be removed again
		case err != nil:
			h.Management().Logger().Warn("the machine of a Docker host cannot be reached to remove its engine; it is given back anyway, what Gantry put there stays",
				"entity", h.ID(), "machine", machineName(x), "err", err)
		}
	}
	return locations.ReleaseFor(ctx, loc, h.ID())
}

// relaunch starts again the engine of a host that does not answer after a restart of
// the server (its machine rebooted, say): the certificates are put there again and
// dockerd started; nothing is installed. An engine that runs is left as it is.
func relaunch(ctx context.Context, h *entities.Entity) error {
	x, ok := heldMachine(h)
	if !ok {
		return fmt.Errorf("%s holds no machine", h)
	}
	p, ok := planFromSensor(attr(h, SensorDaemon))
	if !ok {
		return fmt.Errorf("%s: how its engine runs is not recorded (%s)", h, SensorDaemon)
	}
	holder := tlsHolder(h)
	ca := certPair{Cert: attrString(holder, SensorTLSCA), Key: attrString(holder, SensorTLSCAKey)}
	server := certPair{Cert: attrString(h, SensorTLSServerCert), Key: attrString(h, SensorTLSServerKey)}
	if ca.Cert == "" || server.Cert == "" || server.Key == "" {
		return fmt.Errorf("%s: its certificates are missing from the store: start it again", h)
	}
	if err := copyCerts(ctx, x, p, ca, server); err != nil {
		return err
	}
	_, err := execScript(ctx, x, startScript(p, launchSum(p, ca.Cert, server.Cert)), scriptOpts{root: true, quiet: true})
	return err
}
