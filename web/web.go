package web

import (
	"bytes"
	"compress/gzip"
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed all:dist
var dist embed.FS

// assets is dist/ as a file system rooted at its top.
var assets = func() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err)
	}
	return sub
}()

// Assets gives the embedded files (index.html, assets/...), for tests.
func Assets() fs.FS { return assets }

// Handler serves the UI. A file of dist/ is served as it is (the hashed files under
// assets/ may be cached for good); any other GET is answered with index.html, since
// the UI routes in the browser (/apps/ID, /deploy, ...) and such a page must survive
// a reload or a bookmark. A missing file under assets/ is a 404, never index.html.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, r.Method+" is not allowed on "+r.URL.Path, http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		f, ok := file(name)
		switch {
		case ok && strings.HasPrefix(name, "assets/"):
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		case ok && name != "index.html":
			w.Header().Set("Cache-Control", "no-cache")
		case strings.HasPrefix(name, "assets/"):
			http.NotFound(w, r)
			return
		default:
			f, ok = file("index.html")
			if !ok {
				http.Error(w, "the web UI was not built into this binary (run make ui)", http.StatusNotFound)
				return
			}
			name = "index.html"
			w.Header().Set("Cache-Control", "no-cache")
		}
		serve(w, r, name, f)
	})
}

// asset is one embedded file, with a gzipped copy when that is worth it.
type asset struct {
	data, gz []byte
	ctype    string
}

var cache sync.Map // name -> *asset; names absent from dist are not stored

func file(name string) (*asset, bool) {
	if a, ok := cache.Load(name); ok {
		return a.(*asset), true
	}
	data, err := fs.ReadFile(assets, name)
	if err != nil {
		return nil, false
	}
	a := &asset{data: data, ctype: mime.TypeByExtension(path.Ext(name))}
	if a.ctype == "" {
		a.ctype = http.DetectContentType(data)
	}
	if len(data) > 1024 && compressible(a.ctype) {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(data)
		zw.Close()
		if b.Len() < len(data) {
			a.gz = b.Bytes()
		}
	}
	actual, _ := cache.LoadOrStore(name, a)
	return actual.(*asset), true
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") ||
		strings.Contains(ctype, "json") || strings.Contains(ctype, "svg")
}

func serve(w http.ResponseWriter, r *http.Request, name string, a *asset) {
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	body := a.data
	if a.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			body = a.gz
		}
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			continue
		}
		q := strings.TrimSpace(params)
		if v, ok := strings.CutPrefix(q, "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f == 0 {
				return false
			}
		}
		return true
	}
	return false
}
