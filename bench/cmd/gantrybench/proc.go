package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gantry-dev/gantry/client"
)

// pprofAddr, when set, is passed to the server as GANTRY_PPROF (for gantryprof).
var pprofAddr string

// gantry is one run of the real `gantry server` binary.
type gantry struct {
	bin     string
	data    string
	addr    string
	url     string
	logPath string
	cmd     *exec.Cmd
	started time.Time // just before exec
	c       *client.Client
	hc      *http.Client
	done    chan struct{} // closed once the process has ended and been reaped
}

// httpClient keeps enough idle connections for a bounded pool of workers, so that a
// burst of requests does not churn through ephemeral ports.
func httpClient(conns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns * 2
	tr.MaxIdleConnsPerHost = conns * 2
	tr.MaxConnsPerHost = 0
	return &http.Client{Transport: tr, Timeout: 10 * time.Minute}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startGantry execs the server on data (created when missing) and returns at once; the
// log goes to logDir/<name>.log. Call waitUp next.
func startGantry(bin, data, logDir, name string, conns int) (*gantry, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	g := &gantry{bin: bin, data: data, addr: addr, url: "http://" + addr, logPath: filepath.Join(logDir, name+".log")}
	logf, err := os.OpenFile(g.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	g.cmd = exec.Command(bin, "server", "--bind", addr, "--data", data)
	g.cmd.Stdout, g.cmd.Stderr = logf, logf
	if pprofAddr != "" {
		g.cmd.Env = append(os.Environ(), "GANTRY_PPROF="+pprofAddr)
	}
	g.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	g.hc = httpClient(conns)
	g.c = client.New(g.url, client.WithHTTPClient(g.hc), client.WithPollInterval(20*time.Millisecond))
	g.started = time.Now()
	if err := g.cmd.Start(); err != nil {
		return nil, fmt.Errorf("exec %s: %w", bin, err)
	}
	g.done = make(chan struct{})
	go func() { _ = g.cmd.Wait(); close(g.done) }() // reaps it, however it ends
	return g, nil
}

// waitUp polls /v1/server/up every 5ms until it answers true.
func (g *gantry) waitUp(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		up, err := g.c.Up(pctx)
		cancel()
		if err == nil && up {
			return nil
		}
		if g.exited() {
			return fmt.Errorf("gantry exited before serving; see %s", g.logPath)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gantry did not answer within %s; see %s", within, g.logPath)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (g *gantry) exited() bool {
	select {
	case <-g.done:
		return true
	default:
		return false
	}
}

// kill9 ends the server as kill -9 does: nothing is flushed.
func (g *gantry) kill9() {
	if !g.exited() {
		_ = g.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-g.done
	g.hc.CloseIdleConnections()
}

// stop asks the server to shut down cleanly, and kills it after 15s.
func (g *gantry) stop() {
	if !g.exited() {
		_ = g.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-g.done:
	case <-time.After(15 * time.Second):
		_ = g.cmd.Process.Signal(syscall.SIGKILL)
		<-g.done
	}
	g.hc.CloseIdleConnections()
}

// memory reads VmRSS and VmHWM of the server, in bytes.
func (g *gantry) memory() (rss, hwm int64, err error) {
	m, err := procMemory(g.cmd.Process.Pid)
	return m.RSS, m.HWM, err
}

// memStatus is the memory of a process as /proc/<pid>/status tells it, in bytes.
type memStatus struct {
	RSS     int64 `json:"rss_bytes"`      // VmRSS = RssAnon + RssFile + RssShmem
	HWM     int64 `json:"hwm_bytes"`      // VmHWM: the peak of VmRSS
	RSSAnon int64 `json:"rss_anon_bytes"` // the Go heap, stacks, runtime
	RSSFile int64 `json:"rss_file_bytes"` // mapped file pages: the binary, bbolt's mmap of the store
}

func procMemory(pid int) (m memStatus, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			m.RSS = kb << 10
		case "VmHWM:":
			m.HWM = kb << 10
		case "RssAnon:":
			m.RSSAnon = kb << 10
		case "RssFile:":
			m.RSSFile = kb << 10
		}
	}
	if m.RSS == 0 {
		return m, errors.New("no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
	}
	return m, sc.Err()
}

// cpuTime is the user+system CPU time the server has used so far.
func (g *gantry) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", g.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	// Fields after the command name, which is in parentheses and may hold spaces.
	rest := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(rest) < 13 {
		return 0, fmt.Errorf("short /proc/pid/stat")
	}
	ut, _ := strconv.ParseInt(rest[11], 10, 64)
	st, _ := strconv.ParseInt(rest[12], 10, 64)
	const clk = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clk, nil
}

// explain adds to err, when the server has died, the panic or fatal error it logged.
func (g *gantry) explain(err error) error {
	select {
	case <-g.done:
	case <-time.After(2 * time.Second):
		return err
	}
	b, _ := os.ReadFile(g.logPath)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "panic:") || strings.HasPrefix(line, "fatal error:") || strings.HasPrefix(line, "unexpected fault") || strings.HasPrefix(line, "SIGSEGV") {
			return fmt.Errorf("%w; the server CRASHED: %s (log: %s)", err, line, g.logPath)
		}
	}
	return fmt.Errorf("%w; the server exited (log: %s)", err, g.logPath)
}

// fetchTo saves the body of a GET of url in path.
func fetchTo(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
