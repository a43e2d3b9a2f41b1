package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/api"
)

// Sentinel errors matched by *Error through errors.Is.
var (
	ErrBadRequest   = errors.New("bad request")  // 400
	ErrUnauthorized = errors.New("unauthorized") // 401
	ErrForbidden    = errors.New("forbidden")    // 403
	ErrNotFound     = errors.New("not found")    // 404
	ErrConflict     = errors.New("conflict")     // 409
)

// Error is a response outside 2xx. Message is the ApiError message when the body
// is one, else the body text, else the status text.
type Error struct {
	StatusCode int
	Message    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// Is matches the sentinel of the error's status code.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	}
	return false
}

// Client talks to one server. It is safe for concurrent use.
type Client struct {
	base         string
	http         *http.Client
	user, pass   string
	basic        bool
	token        string
	pollInterval time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithBasicAuth sends HTTP Basic credentials with every request.
func WithBasicAuth(user, password string) Option {
	return func(c *Client) { c.user, c.pass, c.basic, c.token = user, password, true, "" }
}

// WithToken sends an API token (`gantry users token`) as "Authorization: Bearer"
// with every request, instead of a password.
func WithToken(token string) Option {
	return func(c *Client) { c.token, c.basic = token, false }
}

// WithHTTPClient uses hc instead of http.DefaultClient (for timeouts, TLS, transports).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.http = hc }
}

// WithPollInterval sets how long WaitTask pauses between polls when the server
// answers without waiting; the default is 500ms.
func WithPollInterval(d time.Duration) Option {
	return func(c *Client) { c.pollInterval = d }
}

// New returns a client of the server at baseURL, such as "http://127.0.0.1:8081"
// (the /v1 prefix is added by the client).
func New(baseURL string, opts ...Option) *Client {
	c := &Client{
		base:         strings.TrimRight(baseURL, "/"),
		http:         http.DefaultClient,
		pollInterval: 500 * time.Millisecond,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// call is one request: path is already escaped and starts with /v1.
type call struct {
	method      string
	path        string
	query       url.Values
	body        []byte
	contentType string
	accept      string
}

// response is a 2xx answer.
type response struct {
	status int
	body   []byte
}

func (c *Client) do(ctx context.Context, r call) (response, error) {
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	accept := r.accept
	if accept == "" {
		accept = "application/json"
	}
	req.Header.Set("Accept", accept)
	c.authorize(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read body: %w", r.method, r.path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return response{}, fmt.Errorf("%s %s: %w", r.method, r.path, newError(resp.StatusCode, b))
	}
	return response{status: resp.StatusCode, body: b}, nil
}

// authorize adds the credentials to a request.
func (c *Client) authorize(req *http.Request) {
	switch {
	case c.token != "":
		req.Header.Set("Authorization", "Bearer "+c.token)
	case c.basic:
		req.SetBasicAuth(c.user, c.pass)
	}
}

func newError(status int, body []byte) *Error {
	var ae api.ApiError
	if json.Unmarshal(body, &ae) == nil && ae.Message != "" {
		return &Error{StatusCode: status, Message: ae.Message}
	}
	msg := strings.TrimSpace(string(body))
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &Error{StatusCode: status, Message: msg}
}

// get decodes the body of GET path as a T.
func get[T any](ctx context.Context, c *Client, path string) (T, error) {
	var v T
	resp, err := c.do(ctx, call{method: http.MethodGet, path: path})
	if err != nil {
		return v, err
	}
	err = decode(path, resp.body, &v)
	return v, err
}

// getOne is get for a single object.
func getOne[T any](ctx context.Context, c *Client, path string) (*T, error) {
	v, err := get[T](ctx, c, path)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// postJSON posts v as a JSON body.
func (c *Client) postJSON(ctx context.Context, path string, v any) (response, error) {
	b, err := jsonBody(path, v)
	if err != nil {
		return response{}, err
	}
	return c.do(ctx, call{method: http.MethodPost, path: path, body: b, contentType: "application/json"})
}

func jsonBody(path string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("POST %s: encode body: %w", path, err)
	}
	return b, nil
}

func decodeTask(path string, body []byte) (*api.TaskSummary, error) {
	var t api.TaskSummary
	if err := decode(path, body, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

func decode(path string, body []byte, out any) error {
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// value decodes a JSON value answered for a sensor, config key or effector: nil for
// an empty body (204), the raw text when the body is not JSON.
func value(body []byte) any {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return string(body)
	}
	return v
}

// urlPath joins escaped segments under /v1.
func urlPath(segments ...string) string {
	var b strings.Builder
	b.WriteString("/v1")
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

func entityPath(app, entity string, rest ...string) string {
	return urlPath(append([]string{"applications", app, "entities", entity}, rest...)...)
}
