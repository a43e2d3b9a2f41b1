package dockercloud

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func isolatedPlan() daemonPlan {
	return daemonPlan{ID: "h1abc", Port: 23801, Listen: "127.0.0.1", Isolated: true, BridgeCIDR: "10.232.7.1/24"}
}

func machinePlan() daemonPlan {
	return daemonPlan{ID: "h1abc", Port: 2376, Listen: "0.0.0.0"}
}

func TestDaemonArgs(t *testing.T) {
	tls := []string{"--tlsverify", "--tlscacert=/etc/gantry-docker/h1abc/ca.pem",
		"--tlscert=/etc/gantry-docker/h1abc/server-cert.pem", "--tlskey=/etc/gantry-docker/h1abc/server-key.pem"}
	cases := []struct {
		name       string
		plan       daemonPlan
		systemd    bool
		containerd string
		want       []string
	}{
		{name: "the machine's engine, without systemd", plan: machinePlan(),
			want: append([]string{"--pidfile", "/run/gantry-docker/h1abc/docker.pid", "-H", "unix:///var/run/docker.sock", "-H", "tcp://0.0.0.0:2376"}, tls...)},
		{name: "the machine's engine, docker.service with its containerd", plan: machinePlan(), systemd: true, containerd: "/run/containerd/containerd.sock",
			want: append([]string{"-H", "fd://", "--containerd=/run/containerd/containerd.sock", "-H", "tcp://0.0.0.0:2376"}, tls...)},
		{name: "the machine's engine, docker.service", plan: machinePlan(), systemd: true,
			want: append([]string{"-H", "fd://", "-H", "tcp://0.0.0.0:2376"}, tls...)},
		{name: "isolated", plan: isolatedPlan(),
			want: append([]string{
				"--data-root", "/var/lib/gantry-docker/h1abc/docker",
				"--exec-root", "/run/gantry-docker/h1abc/exec",
				"--pidfile", "/run/gantry-docker/h1abc/docker.pid",
				"--config-file", "/var/lib/gantry-docker/h1abc/daemon.json",
				"-H", "unix:///run/gantry-docker/h1abc/docker.sock",
				"--bridge", "gd-h1abc",
				"--default-address-pool", "base=10.233.7.0/24,size=27",
				"--iptables=false", "--ip-forward=false", "--ip-masq=false",
				"--exec-opt", "native.cgroupdriver=cgroupfs",
				"--cgroup-parent", "/gantry-docker-h1abc",
				"-H", "tcp://127.0.0.1:23801"}, tls...)},
		{name: "isolated under systemd: the same", plan: isolatedPlan(), systemd: true, containerd: "/run/containerd/containerd.sock",
			want: isolatedPlan().args(false, "")},
		{name: "isolated, a pool of its own", plan: func() daemonPlan { p := isolatedPlan(); p.Pool = "10.99.0.0/16"; return p }(),
			want: func() []string {
				a := isolatedPlan().args(false, "")
				a[13] = "base=10.99.0.0/16,size=24"
				return a
			}()},
		{name: "IPv6 listener", plan: daemonPlan{ID: "x", Port: 2376, Listen: "::"},
			want: []string{"--pidfile", "/run/gantry-docker/x/docker.pid", "-H", "unix:///var/run/docker.sock", "-H", "tcp://[::]:2376",
				"--tlsverify", "--tlscacert=/etc/gantry-docker/x/ca.pem", "--tlscert=/etc/gantry-docker/x/server-cert.pem", "--tlskey=/etc/gantry-docker/x/server-key.pem"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.plan.args(c.systemd, c.containerd)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("args:\n got %q\nwant %q", got, c.want)
			}
			if err := c.plan.check(); err != nil {
				t.Errorf("check: %v", err)
			}
		})
	}
}

func TestPlanCheck(t *testing.T) {
	cases := []struct {
		name string
		edit func(*daemonPlan)
		err  string
	}{
		{name: "fine", edit: func(*daemonPlan) {}},
		{name: "port 0 (to be chosen)", edit: func(p *daemonPlan) { p.Port = 0 }},
		{name: "bad id", edit: func(p *daemonPlan) { p.ID = "a b" }, err: "host id"},
		{name: "bad port", edit: func(p *daemonPlan) { p.Port = 70000 }, err: KeyHostPort},
		{name: "listen not an address", edit: func(p *daemonPlan) { p.Listen = "0.0.0.0 --debug" }, err: KeyHostListen},
		{name: "bridge not a CIDR", edit: func(p *daemonPlan) { p.BridgeCIDR = "10.232.7.1" }, err: KeyHostBridgeCIDR},
		{name: "bridge is a network address", edit: func(p *daemonPlan) { p.BridgeCIDR = "10.232.7.0/24" }, err: KeyHostBridgeCIDR},
		{name: "pool not a network", edit: func(p *daemonPlan) { p.Pool = "10.233.7.1/24" }, err: KeyHostAddressPool},
		{name: "pool too small", edit: func(p *daemonPlan) { p.Pool = "10.233.7.0/30" }, err: KeyHostAddressPool},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := isolatedPlan()
			c.edit(&p)
			err := p.check()
			if (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
				t.Errorf("check: %v, want %q", err, c.err)
			}
		})
	}
}

func TestPlanNames(t *testing.T) {
	p := isolatedPlan()
	for got, want := range map[string]string{
		p.Service(): "gantry-docker-h1abc", p.CertDir(): "/etc/gantry-docker/h1abc", p.StateDir(): "/var/lib/gantry-docker/h1abc",
		p.RunDir(): "/run/gantry-docker/h1abc", p.LogFile(): "/var/log/gantry-docker/h1abc.log", p.Socket(): "/run/gantry-docker/h1abc/docker.sock",
		p.Unit(): "/etc/systemd/system/gantry-docker-h1abc.service", p.bridgeSubnet(): "10.232.7.0/24", p.pool(): "10.233.7.0/24",
		machinePlan().Unit(): "/etc/systemd/system/docker.service.d/gantry-docker-h1abc.conf", machinePlan().Socket(): "/var/run/docker.sock",
		machinePlan().SystemdService(): "docker.service", machinePlan().DataRoot(): "",
		daemonPlan{ID: "abcdefghijklmnop"}.Bridge(): "gd-abcdefghijkl",
		p.Endpoint("10.0.0.5"):                      "tcp://10.0.0.5:23801", p.Endpoint("::1"): "tcp://[::1]:23801",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestPoolRange(t *testing.T) {
	for pool, want := range map[string][4]int{
		"10.233.7.0/24": {10, 233, 7, 8}, "10.233.16.0/20": {10, 233, 16, 32}, "10.99.0.0/16": {10, 99, 0, 256},
		"10.0.0.0/8": {-1, -1, -1, -1}, "": {-1, -1, -1, -1}, "10.233.7.0/27": {10, 233, 7, 8},
	} {
		a, b, lo, hi := poolRange(pool)
		if got := [4]int{a, b, lo, hi}; got != want {
			t.Errorf("poolRange(%q) = %v, want %v", pool, got, want)
		}
	}
}

func TestPlanSensorRoundTrip(t *testing.T) {
	for _, p := range []daemonPlan{isolatedPlan(), machinePlan(), func() daemonPlan { p := isolatedPlan(); p.Pool = "10.99.0.0/16"; return p }()} {
		// As set, and as loaded from the store (JSON).
		v := p.sensor("10.0.0.5")
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var loaded any
		if err := json.Unmarshal(b, &loaded); err != nil {
			t.Fatal(err)
		}
		for _, x := range []any{v, loaded} {
			got, ok := planFromSensor(x)
			if !ok || !reflect.DeepEqual(got, p) {
				t.Errorf("planFromSensor = %+v, %v; want %+v", got, ok, p)
			}
		}
		if v["endpoint"] != p.Endpoint("10.0.0.5") {
			t.Errorf("endpoint %v", v["endpoint"])
		}
	}
	if _, ok := planFromSensor(nil); ok {
		t.Error("planFromSensor(nil) is a plan")
	}
}

func TestLaunchSum(t *testing.T) {
	p := isolatedPlan()
	base := launchSum(p, "ca", "server")
	if launchSum(p, "ca", "server") != base {
		t.Error("the same plan and certificates give another sum")
	}
	q := p
	q.Port++
	for what, sum := range map[string]string{
		"another server certificate": launchSum(p, "ca", "server2"),
		"another CA":                 launchSum(p, "ca2", "server"),
		"another port":               launchSum(q, "ca", "server"),
	} {
		if sum == base {
			t.Errorf("%s gives the same sum", what)
		}
	}
}

func TestParsePrepared(t *testing.T) {
	cases := []struct {
		out    string
		port   int
		bridge string
		err    bool
	}{
		{out: "port=23800 bridge=10.232.1.1/24\n", port: 23800, bridge: "10.232.1.1/24"},
		{out: "motd\nport=2376 bridge=\n", port: 2376},
		{out: "port=abc bridge=\n", err: true},
		{out: "port=0 bridge=\n", err: true},
		{out: "", err: true},
	}
	for _, c := range cases {
		port, bridge, err := parsePrepared(c.out)
		if (err != nil) != c.err || port != c.port || bridge != c.bridge {
			t.Errorf("parsePrepared(%q) = %d, %q, %v", c.out, port, bridge, err)
		}
	}
}

func TestUnitText(t *testing.T) {
	p := isolatedPlan()
	u := unitText(p, "/usr/sbin/dockerd", p.args(true, ""))
	for _, want := range []string{
		"Type=notify\n", "ExecStartPre=/bin/sh /var/lib/gantry-docker/h1abc/pre-start.sh\n",
		"ExecStart=/usr/sbin/dockerd --data-root /var/lib/gantry-docker/h1abc/docker ", " --tlsverify ", "KillMode=process\n", "WantedBy=multi-user.target\n",
	} {
		if !strings.Contains(u, want) {
			t.Errorf("the isolated engine's unit has no %q:\n%s", want, u)
		}
	}
	m := machinePlan()
	d := unitText(m, "@DOCKERD@", m.args(true, "@CONTAINERD@"))
	if !strings.Contains(d, "[Service]\nExecStart=\nExecStart=@DOCKERD@ -H fd:// --containerd=@CONTAINERD@ -H tcp://0.0.0.0:2376 --tlsverify ") {
		t.Errorf("the drop-in of docker.service:\n%s", d)
	}
	// The start script fills dockerd's path in, and containerd's or nothing, with sed:
	// its two sed lines, run on the drop-in, leave no placeholder.
	var seds []string
	for _, l := range strings.Split(startScript(m, "sum"), "\n") {
		if strings.Contains(l, `sed -i -e "s|@DOCKERD@|$DOCKERD|"`) {
			seds = append(seds, strings.TrimSpace(l))
		}
	}
	wants := []string{
		"ExecStart=/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock -H tcp://0.0.0.0:2376 --tlsverify ",
		"ExecStart=/usr/sbin/dockerd -H fd:// -H tcp://0.0.0.0:2376 --tlsverify ",
	}
	if len(seds) != len(wants) {
		t.Fatalf("sed lines of the start script: %q", seds)
	}
	for i, sed := range seds {
		f := writeTemp(t, d)
		script := "DOCKERD=/usr/sbin/dockerd\nUNIT=" + shq(strings.TrimSuffix(f, ".new")) + "\n" + sed + "\ncat \"$UNIT.new\""
		out, err := exec.Command("/bin/sh", "-c", script).CombinedOutput()
		if err != nil || !strings.Contains(string(out), wants[i]) || strings.Contains(string(out), "@") {
			t.Errorf("%s: %v\n%s", sed, err, out)
		}
	}
}

func writeTemp(t *testing.T, text string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "unit.new")
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// Every script is valid for /bin/sh (dash on Debian), whatever the plan.
func TestScriptsParse(t *testing.T) {
	for _, p := range []daemonPlan{isolatedPlan(), machinePlan(), {ID: "q'uote", Listen: "0.0.0.0", Isolated: true}} {
		scripts := map[string]string{
			"install": installScript(p.Isolated), "prepare": prepareScript(p), "certDir": certDirScript(p, ""),
			"certDir staged": certDirScript(p, "/home/u/.gantry-docker/certs.x'y"), "preStart": preStartScript(p),
			"start": startScript(p, "sum"), "status": statusScript(p), "check": checkScript(p), "stop": stopScript(p),
			"destroy": destroyScript(p), "asRoot": asRoot(startScript(p, "sum")),
		}
		for name, s := range scripts {
			for _, sh := range []string{"/bin/sh", "dash", "bash"} {
				path, err := exec.LookPath(sh)
				if err != nil {
					continue
				}
				if out, err := exec.Command(path, "-n", "-c", s).CombinedOutput(); err != nil {
					t.Errorf("%s script of %+v does not parse with %s: %v\n%s", name, p, sh, err, out)
				}
			}
		}
	}
}

// The install step installs docker.io with apt-get only when there is no dockerd, as
// root would on a fresh Debian machine (here with stand-ins for apt-get and dockerd,
// on a PATH of their own).
func TestInstallScript(t *testing.T) {
	stub := func(t *testing.T, withDockerd, withAptGet bool) (dir, log string) {
		dir = t.TempDir()
		log = filepath.Join(dir, "apt.log")
		if withDockerd {
			write(t, filepath.Join(dir, "dockerd"), "#!/bin/sh\necho 'Docker version 20.10.24+dfsg1, build 5d6db84'\n")
		}
		if withAptGet {
			// apt-get records its arguments and environment; "install" puts a dockerd on PATH.
			write(t, filepath.Join(dir, "apt-get"), `#!/bin/sh
echo "$DEBIAN_FRONTEND $*" >>`+shq(log)+`
case " $* " in *" install "*docker.io*) printf '#!/bin/sh\necho "Docker version 26.1.5+dfsg1"\n' >`+shq(filepath.Join(dir, "dockerd"))+`; /bin/chmod 755 `+shq(filepath.Join(dir, "dockerd"))+` ;; esac
`)
		}
		return dir, log
	}
	run := func(t *testing.T, dir, script string) (string, error) {
		cmd := exec.Command("/bin/sh", "-c", script)
		cmd.Env = []string{"PATH=" + dir}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	t.Run("dockerd missing: docker.io installed", func(t *testing.T) {
		dir, log := stub(t, false, true)
		out, err := run(t, dir, installScript(false))
		if err != nil || !strings.Contains(out, "installing docker.io with apt-get") || !strings.Contains(out, "installed: Docker version 26.1.5") {
			t.Fatalf("install: %v\n%s", err, out)
		}
		b, _ := os.ReadFile(log)
		if got := string(b); got != "noninteractive update -q\nnoninteractive install -y -q docker.io\n" {
			t.Errorf("apt-get was run as:\n%s", got)
		}
	})
	t.Run("dockerd there: nothing installed", func(t *testing.T) {
		dir, log := stub(t, true, true)
		out, err := run(t, dir, installScript(false))
		if err != nil || !strings.Contains(out, "the Docker Engine is installed: Docker version 20.10.24") {
			t.Fatalf("install: %v\n%s", err, out)
		}
		if _, err := os.Stat(log); err == nil {
			t.Error("apt-get ran although dockerd is there")
		}
	})
	t.Run("no dockerd, no apt-get", func(t *testing.T) {
		dir, _ := stub(t, false, false)
		out, err := run(t, dir, installScript(false))
		if err == nil || !strings.Contains(out, "no apt-get to install docker.io") {
			t.Fatalf("install: %v\n%s", err, out)
		}
	})
	if s := installScript(true); !strings.Contains(s, "apt-get install -y -q iproute2") {
		t.Error("an isolated engine's install does not make sure of ip (iproute2)")
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
}

// asRoot runs the script directly when the login is root, else through sudo -n, else
// says that root is needed.
func TestAsRoot(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, uid string
		sudo      bool
		want      string
		fail      bool
	}{
		{name: "root", uid: "0", want: "ran it's\n"},
		{name: "a user with sudo", uid: "1000", sudo: true, want: "sudo -n /bin/sh -c\nran it's\n"},
		{name: "a user without sudo", uid: "1000", want: "this needs root", fail: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bin := filepath.Join(dir, c.name)
			if err := os.MkdirAll(bin, 0o755); err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(bin, "id"), "#!/bin/sh\necho "+c.uid+"\n")
			if c.sudo {
				write(t, filepath.Join(bin, "sudo"), "#!/bin/sh\n[ \"$2\" = true ] && exit 0\necho \"sudo $1 $2 $3\"\nshift\nexec \"$@\"\n")
			}
			cmd := exec.Command("/bin/sh", "-c", asRoot(`echo "ran it's"`))
			cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin"}
			if !c.sudo {
				cmd.Env = []string{"PATH=" + bin}
			}
			out, err := cmd.CombinedOutput()
			if (err != nil) != c.fail || !strings.Contains(string(out), c.want) {
				t.Errorf("asRoot: %v\n%s", err, out)
			}
		})
	}
}

func TestParseEndpointsWithLocations(t *testing.T) {
	in := []any{
		"tcp://a:2376",
		map[string]any{"location": "byon:(hosts=\"root@10.0.0.5\")", "port": 0, "isolated": true, "name": "m1"},
		map[string]any{"location": "byon:(hosts=\"root@10.0.0.5\")"},
	}
	eps, err := parseEndpoints(KeyHosts, in, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 3 || eps[1].Endpoint != `location:byon:(hosts="root@10.0.0.5")` || eps[1].Name != "m1" ||
		eps[1].Config[KeyHostIsolated] != true || eps[1].Config[KeyHostPort] != 0 || eps[1].Config[KeyHostLocation] != `byon:(hosts="root@10.0.0.5")` {
		t.Fatalf("entries %+v", eps)
	}
	if _, ok := eps[1].Config[KeyEndpoint]; ok {
		t.Error("an entry with a location has an endpoint")
	}
	// Two entries with the same location are two hosts; two with the same endpoint one.
	used := map[string]int{eps[1].Endpoint: 1, "tcp://a:2376": 1}
	seen := map[string]bool{}
	var taken []bool
	for _, ep := range append(eps, eps[0]) {
		taken = append(taken, takenBy(ep, used, seen))
	}
	if want := []bool{true, true, false, true}; !reflect.DeepEqual(taken, want) {
		t.Errorf("taken %v, want %v", taken, want)
	}
	for _, bad := range []struct {
		in  any
		err string
	}{
		{in: []any{map[string]any{"location": "localhost", "endpoint": "tcp://a:1"}}, err: "not both"},
		{in: []any{map[string]any{"location": ""}}, err: "want a location spec"},
		{in: []any{map[string]any{"endpoint": "tcp://a:1", "port": 2376}}, err: "is for a host made on a machine"},
	} {
		if _, err := parseEndpoints(KeyHosts, bad.in, false); err == nil || !strings.Contains(err.Error(), bad.err) {
			t.Errorf("parseEndpoints(%v): %v, want %q", bad.in, err, bad.err)
		}
	}
}
