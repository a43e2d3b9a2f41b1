package web_test

// The web UI in a real headless Chromium (Debian's chromium, installed by
// scripts/ensure-chromium.sh), driven by chromedp, against a real Gantry server on a
// loopback port: deploy a blueprint through the editor (a bad one first, whose error
// must show at its line), see the entity tree, invoke restart from the effector form
// by keyboard and mouse, and watch the task end with its output.
//
// Without chromium the test is skipped, or fails when CI=true. With
// -screenshot=FILE it also writes a PNG of the app inspector (make screenshot writes
// docs/app-inspector.png).

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gantry-dev/gantry/server"
)

var screenshot = flag.String("screenshot", "", "write a PNG of the app inspector to this file")

// chromiumPath finds Debian's chromium (or $GANTRY_CHROMIUM). Without it the test is
// skipped, or fails when CI=true.
func chromiumPath(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("GANTRY_CHROMIUM"), "/usr/bin/chromium"}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			candidates = append(candidates, p)
		}
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return c
		}
	}
	msg := "no chromium (Debian's chromium); run scripts/ensure-chromium.sh (as root on Debian it installs it), or set GANTRY_CHROMIUM"
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: tests that need it fail instead of skipping)", msg)
	}
	t.Skip("skipping: " + msg)
	return ""
}

// startServer runs a Gantry server with a store of its own on a free loopback port;
// usersFile, when not empty, is its users file.
func startServer(t *testing.T, usersFile string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	s, err := server.New(ctx, server.Config{Bind: "127.0.0.1:0", DataDir: t.TempDir(), UsersFile: usersFile, Logger: logger})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx, func(a string) { addr <- a }) }()
	var url string
	select {
	case a := <-addr:
		url = "http://" + a
	case err := <-done:
		cancel()
		t.Fatalf("server: %v", err)
	}
	t.Cleanup(func() {
		if usersFile == "" {
			deleteApps(t, url) // stops the processes the test started
		}
		cancel()
		<-done
		s.Close()
	})
	return url
}

// deleteApps deletes every application and waits for each to be gone.
func deleteApps(t *testing.T, url string) {
	var apps []struct {
		ID string `json:"id"`
	}
	if err := getJSON(url+"/v1/applications", &apps); err != nil {
		t.Logf("list applications: %v", err)
		return
	}
	for _, a := range apps {
		req, _ := http.NewRequest(http.MethodDelete, url+"/v1/applications/"+a.ID, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Logf("delete %s: %v", a.ID, err)
			continue
		}
		var task struct {
			ID string `json:"id"`
		}
		json.NewDecoder(resp.Body).Decode(&task)
		resp.Body.Close()
		if task.ID != "" {
			if r, err := http.Get(url + "/v1/activities/" + task.ID + "?timeout=20s"); err == nil {
				r.Body.Close()
			}
		}
	}
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// browser starts headless Chromium with the flags this machine needs (no background
// networking: the network is closed), a new profile, and a laptop-sized window.
func browser(t *testing.T, chrome string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 860),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// Start the browser now, on a context without a deadline (a deadline would end it).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium %s: %v", chrome, err)
	}
	return ctx
}

// step runs actions with a time limit, failing the test with what it was doing.
func step(t *testing.T, ctx context.Context, what string, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v\npage text:\n%s", what, err, pageText(ctx))
	}
}

// waitFor polls a JavaScript expression until it is truthy.
func waitFor(expr string, d time.Duration) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(d))
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func pageText(ctx context.Context) string {
	sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
	if err != nil {
		return "(unavailable: " + err.Error() + ")"
	}
	return s
}

// paste puts text into the blueprint editor as a user's paste does (CodeMirror reads
// the clipboard data of the paste event), replacing what is selected.
func paste(text string) chromedp.Action[chromedp.Void] {
	js, _ := json.Marshal(text)
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const el = document.querySelector('.cm-content');
		el.focus();
		const dt = new DataTransfer();
		dt.setData('text/plain', %s);
		el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));
	})()`, js))
}

func ctrl(key string) chromedp.Action[chromedp.Void] {
	return chromedp.KeyEvent(key, chromedp.KeyModifiers(chromedp.ModifierCtrl))
}

func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// The blueprint deployed: examples/process.yaml, whose launch step first says so and
// waits two seconds, so that the test sees its output stream while it runs.
func blueprint(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", "process.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const launch = "  launch.command: |\n"
	s := string(b)
	if !strings.Contains(s, launch) {
		t.Fatalf("examples/process.yaml has no %q any more: update the test", launch)
	}
	return strings.Replace(s, launch, launch+"    echo \"launching ticker\"; sleep 2\n", 1)
}

func TestBrowserDeployInspectRestart(t *testing.T) {
	chrome := chromiumPath(t)
	start := time.Now()
	url := startServer(t, "")
	ctx := browser(t, chrome)

	// Any uncaught exception in the page fails the test.
	var (
		mu     sync.Mutex
		thrown []string
	)
	exceptions := chromedp.Events(ctx, cdpruntime.ExceptionThrown)
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			mu.Lock()
			thrown = append(thrown, fmt.Sprintf("%s (%s:%d:%d)", msg, d.URL, d.LineNumber+1, d.ColumnNumber+1))
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range thrown {
			t.Errorf("uncaught exception in the page: %s", e)
		}
	}()

	// The server serves the UI at / and at the paths the UI routes, the API's errors
	// stay JSON.
	for path, want := range map[string]string{"/": "text/html", "/apps/x/entities/y?tab=sensors": "text/html", "/v1/nosuch": "application/json"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, want) {
			t.Errorf("GET %s: Content-Type %q, want %s", path, ct, want)
		}
	}

	// A server error is a message, never a blank page.
	step(t, ctx, "unknown application shows the server's error", 15*time.Second,
		chromedp.Navigate(url+"/apps/no-such-app"),
		waitFor(`document.querySelector('.error')?.innerText.includes('no-such-app')`, 10*time.Second),
	)

	// Deploy a bad blueprint through the editor: the server's 400 names line 4, column
	// 9, and the editor marks that place.
	bad := "name: broken\nlocation: localhost\nservices:\n- type: no-such-type\n  name: x\n"
	step(t, ctx, "open the editor", 15*time.Second,
		chromedp.Navigate(url+"/deploy"),
		chromedp.WaitVisible(chromedp.CSS(".cm-content")),
		chromedp.Focus(chromedp.CSS(".cm-content")),
		ctrl("a"),
		paste(bad),
		waitFor(`document.querySelector('.cm-content').innerText.includes('no-such-type')`, 5*time.Second),
		chromedp.Click(chromedp.ID("deploy-button")),
		waitFor(`document.querySelector('#deploy-error')?.innerText.includes('line 4, column 9')`, 10*time.Second),
		// the diagnostic sits on line 4, over the unknown type
		waitFor(`(() => { const m = document.querySelector('.cm-lintRange-error');
			return m && m.closest('.cm-line')?.innerText.includes('no-such-type') &&
				[...document.querySelectorAll('.cm-line')].indexOf(m.closest('.cm-line')) === 3 })()`, 5*time.Second),
	)

	// Fix it: replace the text with the example and deploy with Ctrl+Enter.
	step(t, ctx, "deploy the example with the keyboard", 30*time.Second,
		chromedp.Focus(chromedp.CSS(".cm-content")),
		ctrl("a"),
		paste(blueprint(t)),
		waitFor(`document.querySelector('.cm-content').innerText.includes('process-example')`, 5*time.Second),
		chromedp.Focus(chromedp.CSS(".cm-content")),
		ctrl("\r"),
		waitFor(`location.pathname.startsWith('/apps/')`, 10*time.Second),
		// the tree shows the application and its child, which comes up
		chromedp.WaitVisible(chromedp.CSS(`#entity-tree [role=treeitem][data-name="process-example"]`)),
		waitFor(`document.querySelector('#entity-tree [data-name="ticker"]')?.getAttribute('aria-label').includes('RUNNING')`, 20*time.Second),
	)

	// Select the child with the keyboard: the tree's focused item, Down, Enter.
	step(t, ctx, "select ticker in the tree by keyboard", 10*time.Second,
		chromedp.Focus(chromedp.CSS(`#entity-tree [role=treeitem][tabindex="0"]`)),
		chromedp.KeyEvent(kb.ArrowDown),
		waitFor(`document.activeElement?.dataset.name === 'ticker'`, 3*time.Second),
		chromedp.KeyEvent(kb.Enter),
		waitFor(`location.pathname.includes('/entities/') && document.querySelector('#entity-title')?.innerText.includes('ticker')`, 5*time.Second),
	)

	// The sensors table shows the state; a secret sensor (its name says password) is
	// masked, as the API masks it: the page never has its value.
	resp, err := http.Post(url+"/v1/applications/process-example/entities/ticker/sensors/db.password",
		"application/json", strings.NewReader(`"s3cret-value"`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("set db.password: %s", resp.Status)
	}
	step(t, ctx, "sensors", 10*time.Second,
		chromedp.KeyEvent("2"), // the Sensors tab
		waitFor(`document.querySelector('#sensors-table tr[data-sensor="service.state"]')?.innerText.includes('RUNNING')`, 5*time.Second),
		waitFor(`document.querySelector('#sensors-table tr[data-sensor="db.password"]')?.innerText.includes('xxxxxxxx')`, 5*time.Second),
	)
	if strings.Contains(pageText(ctx), "s3cret-value") {
		t.Fatal("the page shows the value of a secret sensor")
	}

	// Invoke restart from its form; the activities show its task until it ends, and
	// the output of its launch step as it is written.
	step(t, ctx, "invoke restart", 10*time.Second,
		chromedp.KeyEvent("4"), // the Effectors tab
		chromedp.WaitVisible(chromedp.CSS(`form[data-effector="restart"] button[type=submit]`)),
		chromedp.Click(chromedp.CSS(`form[data-effector="restart"] button[type=submit]`)),
		waitFor(`new URLSearchParams(location.search).get('tab') === 'activities' &&
			document.querySelector('#task-detail')?.innerText.includes('restart')`, 5*time.Second),
	)
	restartURL := eval[string](t, ctx, `location.href`)
	step(t, ctx, "follow the launch step while it runs", 15*time.Second,
		waitFor(`[...document.querySelectorAll('.steps a')].some(a => a.innerText === 'Starting ticker')`, 10*time.Second),
		chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('.steps a')].find(a => a.innerText === 'Starting ticker').click()`),
		waitFor(`[...document.querySelectorAll('.steps a')].some(a => a.innerText === 'launch')`, 10*time.Second),
		chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('.steps a')].find(a => a.innerText === 'launch').click()`),
		waitFor(`document.querySelector('#task-detail h3')?.innerText === 'launch' &&
			document.querySelector('pre[data-stream="stdout"]')?.innerText.includes('launching ticker')`, 10*time.Second),
	)
	// Seen while running: the step's status is not Completed yet, and the
	// output says it streams. (The step sleeps 2s after its first line.)
	if st := eval[string](t, ctx, `document.querySelector('#task-detail').dataset.status`); st == "Completed" {
		t.Logf("the launch step had ended before its output was seen (a slow machine?)")
	} else if !eval[bool](t, ctx, `!!document.querySelector('.streaming')`) {
		t.Errorf("the running step's output is not marked as streaming")
	}
	step(t, ctx, "the launch step ends with its whole output", 15*time.Second,
		waitFor(`document.querySelector('#task-detail')?.dataset.status === 'Completed' &&
			document.querySelector('pre[data-stream="stdout"]')?.innerText.includes('launched pid')`, 12*time.Second),
	)
	step(t, ctx, "restart ends", 20*time.Second,
		chromedp.Navigate(restartURL),
		waitFor(`document.querySelector('#task-detail')?.dataset.status === 'Completed' &&
			document.querySelector('#task-detail h3')?.innerText.includes('restart')`, 15*time.Second),
		// the task tree has it as a root, selected
		waitFor(`document.querySelector('#task-tree [aria-selected="true"]')?.getAttribute('aria-label').includes('restart')`, 5*time.Second),
		waitFor(`document.querySelector('#entity-tree [data-name="ticker"]')?.getAttribute('aria-label').includes('RUNNING')`, 10*time.Second),
	)
	mode := eval[string](t, ctx, `document.querySelector('#live-mode').dataset.mode`)
	t.Logf("live updates: %s; took %s", mode, time.Since(start).Round(time.Millisecond))

	if *screenshot != "" {
		takeScreenshot(t, ctx, *screenshot)
	}
}

// takeScreenshot writes the app inspector of the ticker: the restart's task tree
// opened down to its launch step, with that step's output.
func takeScreenshot(t *testing.T, ctx context.Context, file string) {
	step(t, ctx, "screenshot view", 20*time.Second,
		chromedp.EmulateViewport(1366, 768), // a laptop's screen
		// open the task tree down to the launch step with the keyboard
		chromedp.Focus(chromedp.CSS(`#task-tree [role=treeitem][aria-selected="true"]`)),
		chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown), // Starting ticker
		waitFor(`document.activeElement?.getAttribute('aria-label')?.startsWith('Starting ticker')`, 3*time.Second),
		chromedp.KeyEvent(kb.ArrowRight),
		waitFor(`document.activeElement?.getAttribute('aria-expanded') === 'true' && document.activeElement.querySelectorAll('[role=treeitem]').length >= 2`, 5*time.Second),
		chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown), // install, launch
		waitFor(`document.activeElement?.getAttribute('aria-label')?.startsWith('launch')`, 3*time.Second),
		chromedp.KeyEvent(kb.Enter),
		waitFor(`document.querySelector('#task-detail h3')?.innerText === 'launch' &&
			document.querySelector('pre[data-stream="stdout"]')?.innerText.includes('launched pid')`, 5*time.Second),
		chromedp.Evaluate[chromedp.Void](`document.activeElement?.blur()`),
		chromedp.Sleep(300*time.Millisecond), // let the flash of changed rows fade
	)
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", file, len(png))
}

// On a server with users, the UI asks to log in, says so when the password is wrong,
// and shows a readonly user the server's refusal of a deploy (403) as a message.
func TestBrowserLogin(t *testing.T) {
	chrome := chromiumPath(t)
	usersFile := filepath.Join(t.TempDir(), "users.yaml")
	users, err := server.ReadOrNewUsers(usersFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := users.SetPassword("viewer", "readonly", "viewer-password"); err != nil {
		t.Fatal(err)
	}
	if err := users.Write(usersFile); err != nil {
		t.Fatal(err)
	}
	url := startServer(t, usersFile)
	ctx := browser(t, chrome)

	step(t, ctx, "the login dialog, and a wrong password", 15*time.Second,
		chromedp.Navigate(url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`dialog.login[open] input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`dialog.login input[name=user]`), "viewer"),
		chromedp.SendKeys(chromedp.CSS(`dialog.login input[name=password]`), "wrong"+kb.Enter),
		waitFor(`document.querySelector('dialog.login [role=alert]')?.innerText.includes('401')`, 5*time.Second),
	)
	step(t, ctx, "log in as readonly", 15*time.Second,
		chromedp.Evaluate[chromedp.Void](`document.querySelector('dialog.login input[name=password]').value = ''`),
		chromedp.SendKeys(chromedp.CSS(`dialog.login input[name=password]`), "viewer-password"+kb.Enter),
		waitFor(`!document.querySelector('dialog.login[open]') && document.querySelector('.empty')?.innerText.includes('No applications')`, 5*time.Second),
		// the event stream is let in with the credentials of the login
		waitFor(`document.querySelector('#live-mode')?.dataset.mode === 'events'`, 5*time.Second),
	)
	step(t, ctx, "a readonly deploy is refused with the server's message", 15*time.Second,
		chromedp.Navigate(url+"/deploy"),
		chromedp.WaitVisible(chromedp.CSS(".cm-content")),
		chromedp.Focus(chromedp.CSS(".cm-content")),
		ctrl("a"),
		paste("name: nope\nlocation: localhost\nservices:\n- type: basic-entity\n"),
		chromedp.Click(chromedp.ID("deploy-button")),
		waitFor(`document.querySelector('#deploy-error')?.innerText.includes('403')`, 5*time.Second),
	)
	if n := eval[int](t, ctx, `document.querySelectorAll('dialog[open]').length`); n != 0 {
		t.Errorf("%d dialogs open after the refused deploy; want the message only", n)
	}
}

// Without the event stream (here blocked in the browser, as on a server without
// GET /v1/events), the UI polls: a sensor set through the API shows in the sensors
// table within seconds, and the top bar says "polling".
func TestBrowserPollingFallback(t *testing.T) {
	chrome := chromiumPath(t)
	url := startServer(t, "")
	ctx := browser(t, chrome)
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{
		URLPatterns: []*network.BlockPattern{{URLPattern: "*://*:*/v1/events*", Block: true}},
	}); err != nil {
		t.Fatal(err)
	}

	resp, err := http.Post(url+"/v1/applications", "application/x-yaml",
		strings.NewReader("name: polled\nlocation: localhost\nservices:\n- type: basic-entity\n  name: thing\n"))
	if err != nil {
		t.Fatal(err)
	}
	var task struct {
		EntityID string `json:"entityId"`
	}
	json.NewDecoder(resp.Body).Decode(&task)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || task.EntityID == "" {
		t.Fatalf("deploy: %s", resp.Status)
	}
	app := task.EntityID
	setSensor := func(v string) {
		t.Helper()
		r, err := http.Post(url+"/v1/applications/"+app+"/entities/"+app+"/sensors/ui.test", "application/json", strings.NewReader(`"`+v+`"`))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode/100 != 2 {
			t.Fatalf("set sensor: %s", r.Status)
		}
	}
	setSensor("first")
	step(t, ctx, "the sensors, polled", 15*time.Second,
		chromedp.Navigate(url+"/apps/"+app+"?tab=sensors"),
		waitFor(`document.querySelector('#sensors-table tr[data-sensor="ui.test"]')?.innerText.includes('first')`, 5*time.Second),
		waitFor(`document.querySelector('#live-mode')?.dataset.mode === 'polling'`, 5*time.Second),
	)
	setSensor("second")
	step(t, ctx, "a changed sensor shows without a reload", 10*time.Second,
		waitFor(`document.querySelector('#sensors-table tr[data-sensor="ui.test"]')?.innerText.includes('second')`, 6*time.Second),
	)
}
