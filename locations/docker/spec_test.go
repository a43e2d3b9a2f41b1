package docker

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"

	"github.com/gantry-dev/gantry/locations"
)

func TestCreateConfig(t *testing.T) {
	tests := []struct {
		name    string
		spec    locations.ContainerSpec
		wantCfg *container.Config
		wantHC  *container.HostConfig
		wantErr error
	}{
		{
			name:    "minimal",
			spec:    locations.ContainerSpec{Image: "gantry/busybox:latest"},
			wantCfg: &container.Config{Image: "gantry/busybox:latest"},
			wantHC:  &container.HostConfig{},
		},
		{
			name: "everything",
			spec: locations.ContainerSpec{
				Name: "web", Image: "img", Command: []string{"httpd", "-f"},
				Env:          map[string]string{"B": "2", "A": "1=one"},
				OpenPorts:    []int{80, 8080},
				PortBindings: map[int]int{8080: 18080, 9000: 0},
				Volumes:      []string{"/data", "/srv:/srv:ro", "named:/var/lib/x"},
				Labels:       map[string]string{"app": "x"},
				CPUShares:    512, MemoryBytes: 64 << 20,
			},
			wantCfg: &container.Config{
				Image: "img", Cmd: []string{"httpd", "-f"},
				Env:          []string{"A=1=one", "B=2"},
				ExposedPorts: nat.PortSet{"80/tcp": {}, "8080/tcp": {}, "9000/tcp": {}},
				Volumes:      map[string]struct{}{"/data": {}},
				Labels:       map[string]string{"app": "x"},
			},
			wantHC: &container.HostConfig{
				PortBindings: nat.PortMap{
					"80/tcp":   {{HostPort: ""}},
					"8080/tcp": {{HostPort: "18080"}},
					"9000/tcp": {{HostPort: ""}},
				},
				Binds:     []string{"/srv:/srv:ro", "named:/var/lib/x"},
				Resources: container.Resources{CPUShares: 512, Memory: 64 << 20},
			},
		},
		{name: "no image", spec: locations.ContainerSpec{}, wantErr: locations.ErrInvalid},
		{name: "port zero", spec: locations.ContainerSpec{Image: "i", OpenPorts: []int{0}}, wantErr: locations.ErrInvalid},
		{name: "port too big", spec: locations.ContainerSpec{Image: "i", OpenPorts: []int{70000}}, wantErr: locations.ErrInvalid},
		{name: "binding container port bad", spec: locations.ContainerSpec{Image: "i", PortBindings: map[int]int{-1: 80}}, wantErr: locations.ErrInvalid},
		{name: "binding host port bad", spec: locations.ContainerSpec{Image: "i", PortBindings: map[int]int{80: 65536}}, wantErr: locations.ErrInvalid},
		{name: "relative anonymous volume", spec: locations.ContainerSpec{Image: "i", Volumes: []string{"data"}}, wantErr: locations.ErrInvalid},
		{name: "relative container path", spec: locations.ContainerSpec{Image: "i", Volumes: []string{"/a:b"}}, wantErr: locations.ErrInvalid},
		{name: "empty source", spec: locations.ContainerSpec{Image: "i", Volumes: []string{":/b"}}, wantErr: locations.ErrInvalid},
		{name: "empty mode", spec: locations.ContainerSpec{Image: "i", Volumes: []string{"/a:/b:"}}, wantErr: locations.ErrInvalid},
		{name: "too many colons", spec: locations.ContainerSpec{Image: "i", Volumes: []string{"/a:/b:ro:x"}}, wantErr: locations.ErrInvalid},
		{name: "bad env name", spec: locations.ContainerSpec{Image: "i", Env: map[string]string{"A=B": "c"}}, wantErr: locations.ErrInvalid},
		{name: "empty env name", spec: locations.ContainerSpec{Image: "i", Env: map[string]string{"": "c"}}, wantErr: locations.ErrInvalid},
		{name: "negative memory", spec: locations.ContainerSpec{Image: "i", MemoryBytes: -1}, wantErr: locations.ErrInvalid},
		{name: "negative cpu", spec: locations.ContainerSpec{Image: "i", CPUShares: -1}, wantErr: locations.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, hc, err := createConfig(tt.spec)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg, tt.wantCfg) {
				t.Errorf("config:\n got %+v\nwant %+v", cfg, tt.wantCfg)
			}
			if !reflect.DeepEqual(hc, tt.wantHC) {
				t.Errorf("host config:\n got %+v\nwant %+v", hc, tt.wantHC)
			}
		})
	}
}

// The spec's maps and slices must not be shared with the request.
func TestCreateConfigCopies(t *testing.T) {
	spec := locations.ContainerSpec{Image: "i", Command: []string{"a"}, Labels: map[string]string{"k": "v"}}
	cfg, _, err := createConfig(spec)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Cmd[0] = "changed"
	cfg.Labels["k"] = "changed"
	if spec.Command[0] != "a" || spec.Labels["k"] != "v" {
		t.Fatal("createConfig shares the spec's slices or maps")
	}
}

func TestFromInspect(t *testing.T) {
	tests := []struct {
		name string
		in   container.InspectResponse
		want *locations.Container
	}{
		{
			name: "empty",
			want: &locations.Container{Ports: map[int]int{}, Labels: map[string]string{}},
		},
		{
			name: "running on default bridge",
			in: container.InspectResponse{
				ContainerJSONBase: &container.ContainerJSONBase{
					ID: "abc", Name: "/web", Image: "sha256:123",
					State: &container.State{Status: "running", Running: true},
				},
				Config: &container.Config{Image: "gantry/busybox:latest", Hostname: "abc", Labels: map[string]string{"a": "b"}},
				NetworkSettings: &container.NetworkSettings{
					NetworkSettingsBase: container.NetworkSettingsBase{Ports: nat.PortMap{
						"80/tcp":   {{HostIP: "0.0.0.0", HostPort: "32768"}, {HostIP: "::", HostPort: "32768"}},
						"81/tcp":   nil, // exposed, not published
						"53/udp":   {{HostIP: "0.0.0.0", HostPort: "5353"}},
						"8080/tcp": {{HostIP: "0.0.0.0", HostPort: "18080"}},
					}},
					DefaultNetworkSettings: container.DefaultNetworkSettings{IPAddress: "172.17.0.2"},
					Networks:               map[string]*network.EndpointSettings{"bridge": {IPAddress: "172.17.0.2"}},
				},
			},
			want: &locations.Container{
				ID: "abc", Name: "web", Image: "gantry/busybox:latest", Running: true, Status: "running",
				IP: "172.17.0.2", Hostname: "abc", Ports: map[int]int{80: 32768, 8080: 18080},
				Labels: map[string]string{"a": "b"},
			},
		},
		{
			name: "exited on user networks",
			in: container.InspectResponse{
				ContainerJSONBase: &container.ContainerJSONBase{ID: "x", Name: "/n", Image: "sha256:9", State: &container.State{Status: "exited", ExitCode: 137}},
				NetworkSettings: &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{
					"zeta": {IPAddress: "10.0.9.2"}, "alpha": {IPAddress: "10.0.1.2"}, "none": nil,
				}},
			},
			want: &locations.Container{
				ID: "x", Name: "n", Image: "sha256:9", Status: "exited", ExitCode: 137, IP: "10.0.1.2",
				Ports: map[int]int{}, Labels: map[string]string{},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fromInspect(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestFromSummary(t *testing.T) {
	tests := []struct {
		name string
		in   container.Summary
		want *locations.Container
	}{
		{
			name: "running",
			in: container.Summary{
				ID: "abc", Names: []string{"/web"}, Image: "img", State: "running", Status: "Up 3 seconds",
				Ports: []container.Port{
					{IP: "0.0.0.0", PrivatePort: 80, PublicPort: 32768, Type: "tcp"},
					{IP: "::", PrivatePort: 80, PublicPort: 32768, Type: "tcp"},
					{PrivatePort: 81, Type: "tcp"},
					{IP: "0.0.0.0", PrivatePort: 53, PublicPort: 5353, Type: "udp"},
				},
				Labels:          map[string]string{"a": "b"},
				NetworkSettings: &container.NetworkSettingsSummary{Networks: map[string]*network.EndpointSettings{"bridge": {IPAddress: "172.17.0.3"}}},
			},
			want: &locations.Container{
				ID: "abc", Name: "web", Image: "img", Running: true, Status: "running", IP: "172.17.0.3",
				Ports: map[int]int{80: 32768}, Labels: map[string]string{"a": "b"},
			},
		},
		{
			name: "exited",
			in:   container.Summary{ID: "x", Names: []string{"/old"}, Image: "img", State: "exited", Status: "Exited (137) 2 minutes ago"},
			want: &locations.Container{ID: "x", Name: "old", Image: "img", Status: "exited", ExitCode: 137, Ports: map[int]int{}, Labels: map[string]string{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fromSummary(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestExitCodeFromStatus(t *testing.T) {
	for status, want := range map[string]int{
		"Exited (0) 1 second ago":    0,
		"Exited (137) 2 minutes ago": 137,
		"Exited (1) About an hour":   1,
		"Up 3 seconds":               0,
		"Created":                    0,
		"Exited (x) now":             0,
		"Exited (":                   0,
	} {
		if got := exitCodeFromStatus(status); got != want {
			t.Errorf("exitCodeFromStatus(%q) = %d, want %d", status, got, want)
		}
	}
}

func TestToEvent(t *testing.T) {
	ts := time.Date(2026, 5, 7, 10, 0, 0, 123456789, time.UTC)
	tests := []struct {
		name string
		in   events.Message
		want locations.ContainerEvent
	}{
		{
			name: "die",
			in: events.Message{
				Type: "container", Action: "die", TimeNano: ts.UnixNano(), Time: ts.Unix(),
				Actor: events.Actor{ID: "abc", Attributes: map[string]string{
					"name": "web", "image": "gantry/busybox:latest", "exitCode": "137", "execDuration": "3",
					"dev.gantry.test": "t1", "app": "x",
				}},
			},
			want: locations.ContainerEvent{
				ID: "abc", Action: "die", Name: "web", Image: "gantry/busybox:latest", ExitCode: 137,
				Labels: map[string]string{"dev.gantry.test": "t1", "app": "x"}, Time: time.Unix(0, ts.UnixNano()),
			},
		},
		{
			name: "kill with signal, seconds only",
			in: events.Message{
				Type: "container", Action: "kill", Time: ts.Unix(),
				Actor: events.Actor{ID: "abc", Attributes: map[string]string{"name": "web", "signal": "9"}},
			},
			want: locations.ContainerEvent{ID: "abc", Action: "kill", Name: "web", Labels: map[string]string{}, Time: time.Unix(ts.Unix(), 0)},
		},
		{
			name: "suffixed action",
			in:   events.Message{Action: "health_status: healthy", TimeNano: 5, Actor: events.Actor{ID: "a"}},
			want: locations.ContainerEvent{ID: "a", Action: "health_status", Labels: map[string]string{}, Time: time.Unix(0, 5)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := toEvent(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestTimestamp(t *testing.T) {
	for nanos, want := range map[int64]string{
		0:                   "0.000000000",
		1:                   "0.000000001",
		1778148000123456789: "1778148000.123456789",
		1778148000000000000: "1778148000.000000000",
	} {
		if got := timestamp(nanos); got != want {
			t.Errorf("timestamp(%d) = %q, want %q", nanos, got, want)
		}
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{name: "not found", err: fmt.Errorf("no such container: %w", cerrdefs.ErrNotFound), want: locations.ErrNotFound},
		{name: "conflict", err: fmt.Errorf("name in use: %w", cerrdefs.ErrConflict), want: locations.ErrInvalid},
		{name: "invalid", err: fmt.Errorf("bad: %w", cerrdefs.ErrInvalidArgument), want: locations.ErrInvalid},
		{name: "unavailable", err: fmt.Errorf("down: %w", cerrdefs.ErrUnavailable), want: locations.ErrUnavailable},
		{name: "other", err: errors.New("boom"), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wrap("op x", tt.err)
			if !errors.Is(got, tt.err) {
				t.Errorf("%v does not wrap the cause", got)
			}
			for _, s := range []error{locations.ErrNotFound, locations.ErrInvalid, locations.ErrUnavailable} {
				if errors.Is(got, s) != (s == tt.want) {
					t.Errorf("errors.Is(%v, %v) = %v", got, s, !(s == tt.want))
				}
			}
		})
	}
	if wrap("op", nil) != nil {
		t.Error("wrap(nil) != nil")
	}
}

func TestImageNotFoundError(t *testing.T) {
	err := fmt.Errorf("run container: %w", &imageNotFoundError{image: "gantry/x:latest", engine: "docker", host: "unix:///var/run/docker.sock"})
	if !errors.Is(err, ErrImageNotFound) || !errors.Is(err, locations.ErrNotFound) {
		t.Fatalf("%v does not match ErrImageNotFound and locations.ErrNotFound", err)
	}
	want := "run container: image gantry/x:latest not found on engine docker (unix:///var/run/docker.sock): build it locally, e.g. make images"
	if err.Error() != want {
		t.Fatalf("message\n got %q\nwant %q", err, want)
	}
}
