package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func get(t *testing.T, method, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, req)
	return w.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// assetRefs lists the files index.html loads from /assets/.
func assetRefs(t *testing.T) []string {
	t.Helper()
	index, err := fs.ReadFile(Assets(), "index.html")
	if err != nil {
		t.Fatalf("dist/index.html: %v (run make ui)", err)
	}
	var refs []string
	for _, m := range regexp.MustCompile(`(?:src|href)="/(assets/[^"]+)"`).FindAllStringSubmatch(string(index), -1) {
		refs = append(refs, m[1])
	}
	if len(refs) < 2 {
		t.Fatalf("index.html loads %v: expected the app's script and style", refs)
	}
	return refs
}

func TestIndexForUIRoutes(t *testing.T) {
	index, _ := fs.ReadFile(Assets(), "index.html")
	for _, path := range []string{"/", "/index.html", "/apps/abc", "/apps/abc/entities/def?tab=sensors", "/deploy", "/catalog", "/no/such/page"} {
		resp := get(t, http.MethodGet, path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", path, resp.Status)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache (index.html names the current assets)", path, cc)
		}
		if got := body(t, resp); got != string(index) {
			t.Errorf("GET %s: not index.html", path)
		}
	}
	if resp := get(t, http.MethodHead, "/apps/x"); resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD /apps/x: %s", resp.Status)
	}
	if resp := get(t, http.MethodPost, "/deploy"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /deploy: %s, want 405", resp.Status)
	}
}

func TestAssets(t *testing.T) {
	for _, ref := range assetRefs(t) {
		want, err := fs.ReadFile(Assets(), ref)
		if err != nil {
			t.Fatalf("index.html loads %s, which dist does not have: %v", ref, err)
		}
		resp := get(t, http.MethodGet, "/"+ref)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /%s: %s", ref, resp.Status)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("GET /%s: Cache-Control %q: hashed assets are immutable", ref, cc)
		}
		ct := resp.Header.Get("Content-Type")
		if (strings.HasSuffix(ref, ".js") && !strings.Contains(ct, "javascript")) || (strings.HasSuffix(ref, ".css") && !strings.HasPrefix(ct, "text/css")) {
			t.Errorf("GET /%s: Content-Type %q", ref, ct)
		}
		if got := body(t, resp); got != string(want) {
			t.Errorf("GET /%s: body differs from the file", ref)
		}

		// gzip when asked for, the same bytes once unzipped
		resp = get(t, http.MethodGet, "/"+ref, "Accept-Encoding", "br, gzip;q=0.8")
		if len(want) > 1024 {
			if resp.Header.Get("Content-Encoding") != "gzip" {
				t.Errorf("GET /%s with Accept-Encoding gzip: not gzipped", ref)
				continue
			}
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(zr)
			if !bytes.Equal(got, want) {
				t.Errorf("GET /%s gzipped: differs from the file once unzipped", ref)
			}
		}
		if resp := get(t, http.MethodGet, "/"+ref, "Accept-Encoding", "gzip;q=0"); resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("GET /%s with gzip;q=0: gzipped all the same", ref)
		}
	}
	// A missing asset is a 404, not index.html served as a script.
	if resp := get(t, http.MethodGet, "/assets/no-such-file.js"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /assets/no-such-file.js: %s, want 404", resp.Status)
	}
}

// TestAssetsMatchSources fails when the sources under ui/ changed since web/dist was
// built: the build records a hash of its sources in dist/sources.sha256 (vite.config.ts),
// and this computes it the same way.
func TestAssetsMatchSources(t *testing.T) {
	recorded, err := fs.ReadFile(Assets(), "sources.sha256")
	if err != nil {
		t.Fatalf("dist/sources.sha256: %v (run make ui)", err)
	}
	files := []string{"index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts"}
	err = filepath.WalkDir(filepath.Join("ui", "src"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel("ui", path)
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("ui", filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(f + "\x00"))
		h.Write(b)
		h.Write([]byte("\x00"))
	}
	if got, want := hex.EncodeToString(h.Sum(nil)), strings.TrimSpace(string(recorded)); got != want {
		t.Errorf("web/ui changed since web/dist was built (sources %s, built from %s): run make ui and commit web/dist", got[:12], want[:min(12, len(want))])
	}
}
