package docker

import (
	"context"
	"errors"
	"fmt"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/client"

	"github.com/gantry-dev/gantry/locations"
)

// Kind of Docker Engine locations.
const Kind = "docker"

// pingTimeout bounds New's ping when ctx has no earlier deadline.
const pingTimeout = 10 * time.Second

// Engine is a Docker Engine. It is safe for concurrent use.
type Engine struct {
	id   string
	host string // as given to New; empty means the environment's engine
	spec string // the spec it was made from, when made by Provider
	cli  *client.Client
}

var (
	_ locations.Location      = (*Engine)(nil)
	_ locations.ContainerHost = (*Engine)(nil)
)

// New connects to a Docker Engine and checks that it answers. The client is
// configured from the environment (DOCKER_HOST, DOCKER_API_VERSION,
// DOCKER_CERT_PATH, DOCKER_TLS_VERIFY); host, when not empty, overrides the
// address (e.g. "unix:///var/run/docker.sock", "tcp://10.0.0.5:2376"). The API
// version is negotiated with the engine. When the engine does not answer, the
// error wraps locations.ErrUnavailable.
func New(ctx context.Context, id, host string) (*Engine, error) {
	if id == "" {
		return nil, fmt.Errorf("docker engine: empty id: %w", locations.ErrInvalid)
	}
	opts := []client.Opt{client.FromEnv}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	return connect(ctx, id, host, opts)
}

// connect makes the client of opts (with API version negotiation) and pings it.
func connect(ctx context.Context, id, host string, opts []client.Opt) (*Engine, error) {
	opts = append(opts, client.WithAPIVersionNegotiation())
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker engine %s: %w: %w", id, locations.ErrInvalid, err)
	}
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	ping, err := cli.Ping(pctx)
	if err != nil {
		_ = cli.Close()
		return nil, fmt.Errorf("docker engine %s at %s does not answer: %w: %w", id, cli.DaemonHost(), locations.ErrUnavailable, err)
	}
	// Negotiate from this ping so the first real request does not ping again.
	cli.NegotiateAPIVersionPing(ping)
	return &Engine{id: id, host: host, cli: cli}, nil
}

// ID is the id given to New.
func (e *Engine) ID() string { return e.id }

// Kind is "docker".
func (e *Engine) Kind() string { return Kind }

// DisplayName names the engine and its address.
func (e *Engine) DisplayName() string {
	return "Docker Engine " + e.id + " (" + e.cli.DaemonHost() + ")"
}

// Spec is "docker" for the environment's engine, "docker:<host>" when New was
// given a host.
func (e *Engine) Spec() string {
	if e.spec != "" {
		return e.spec
	}
	if e.host == "" {
		return Kind
	}
	return Kind + ":" + e.host
}

// Config shows the engine's address and the negotiated API version.
func (e *Engine) Config() map[string]any {
	return map[string]any{
		"host":       e.cli.DaemonHost(),
		"apiVersion": e.cli.ClientVersion(),
	}
}

// Client returns the underlying Docker client, for tests and benchmarks. Do not
// close it; call Close.
func (e *Engine) Client() *client.Client { return e.cli }

// Close releases the client's connections.
func (e *Engine) Close() error { return e.cli.Close() }

// ErrImageNotFound is wrapped by RunContainer's error when the image is not on
// the engine. It also matches locations.ErrNotFound.
var ErrImageNotFound = fmt.Errorf("image %w", locations.ErrNotFound)

// imageNotFoundError says which image is missing where, and how to get it.
type imageNotFoundError struct{ image, engine, host string }

func (e *imageNotFoundError) Error() string {
	return fmt.Sprintf("image %s not found on engine %s (%s): build it locally, e.g. make images", e.image, e.engine, e.host)
}

func (e *imageNotFoundError) Is(target error) bool {
	return target == ErrImageNotFound || target == locations.ErrNotFound
}

// wrap adds the locations sentinel that matches a Docker client error, so
// callers can test with errors.Is: "<op>: <docker error>: <sentinel>".
func wrap(op string, err error) error {
	var sentinel error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", op, err)
	case cerrdefs.IsNotFound(err):
		sentinel = locations.ErrNotFound
	case client.IsErrConnectionFailed(err), cerrdefs.IsUnavailable(err):
		sentinel = locations.ErrUnavailable
	case cerrdefs.IsInvalidArgument(err), cerrdefs.IsConflict(err):
		sentinel = locations.ErrInvalid
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s: %w (%w)", op, err, sentinel)
}
