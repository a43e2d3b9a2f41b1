package proxy_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/proxy"
)

// testdata/stats holds CSV that HAProxy 2.6 (Debian's, in gantry/haproxy) served at
// /stats;csv: two servers under load and idle, one of them down, and no server at all
// after a 503.
func TestLoadOfCapturedStats(t *testing.T) {
	for _, tc := range []struct {
		file string
		want proxy.Load
		rows int
	}{
		{"two-up-under-load.csv", proxy.Load{Requests: 3896, RequestRate: 1102, InFlight: 7, Connections: 7, ServersUp: 2}, 5},
		{"two-up-idle.csv", proxy.Load{Requests: 3984, RequestRate: 0, InFlight: 0, Connections: 0, ServersUp: 2}, 5},
		{"one-down.csv", proxy.Load{Requests: 5, RequestRate: 5, InFlight: 0, Connections: 0, ServersUp: 1}, 5},
		{"empty-pool.csv", proxy.Load{Requests: 1, RequestRate: 1, InFlight: 0, Connections: 0, ServersUp: 0}, 3},
	} {
		t.Run(tc.file, func(t *testing.T) {
			doc, err := os.ReadFile(filepath.Join("testdata", "stats", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			rows, err := proxy.ParseStats(doc)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != tc.rows {
				t.Errorf("%d rows, want %d", len(rows), tc.rows)
			}
			got, err := proxy.LoadOf(rows, proxy.Frontend, proxy.Backend)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("LoadOf = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseStatsColumnsByName(t *testing.T) {
	// Columns in another order, one more, and quoted: taken by name.
	doc := "# svname,pxname,extra,req_tot,scur,status\n" +
		"FRONTEND,http,\"a,b\",42,3,OPEN\n"
	_, err := proxy.ParseStats([]byte(doc))
	if !errors.Is(err, entities.ErrInvalid) {
		t.Fatalf("a header not starting with pxname,svname: %v, want ErrInvalid", err)
	}
	doc = "# pxname,svname,extra,req_tot,scur,status,\n" +
		"http,FRONTEND,\"a,b\",42,3,OPEN,\n" +
		"pool,BACKEND,,,9,UP,\n" +
		"pool,s1,,,,MAINT,\n"
	rows, err := proxy.ParseStats([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].Fields["extra"] != "a,b" {
		t.Fatalf("rows = %+v", rows)
	}
	if n, ok := rows[0].Int("req_tot"); !ok || n != 42 {
		t.Errorf("req_tot = %d %v", n, ok)
	}
	if _, ok := rows[1].Int("req_tot"); ok {
		t.Error("an empty column reads as a number")
	}
	l, err := proxy.LoadOf(rows, "http", "pool")
	if err != nil {
		t.Fatal(err)
	}
	if want := (proxy.Load{Requests: 42, Connections: 3, InFlight: 9}); l != want {
		t.Errorf("LoadOf = %+v, want %+v", l, want)
	}
}

func TestParseStatsRejects(t *testing.T) {
	for _, doc := range []string{"", "<html>503</html>", "# \n", "# pxname,svname\nhttp,\"unterminated\n"} {
		if _, err := proxy.ParseStats([]byte(doc)); !errors.Is(err, entities.ErrInvalid) {
			t.Errorf("ParseStats(%q) = %v, want ErrInvalid", doc, err)
		}
	}
}

func TestLoadOfMissingProxies(t *testing.T) {
	rows, err := proxy.ParseStats([]byte("# pxname,svname,scur\nhttp,FRONTEND,1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := proxy.LoadOf(rows, "http", "pool"); !errors.Is(err, entities.ErrNotFound) {
		t.Errorf("no backend: %v, want ErrNotFound", err)
	}
	if _, err := proxy.LoadOf(rows, "web", "pool"); !errors.Is(err, entities.ErrNotFound) {
		t.Errorf("no frontend: %v, want ErrNotFound", err)
	}
}

func TestRequestsPerSecond(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	s := func(at time.Duration, total, rate int64) proxy.Sample {
		return proxy.Sample{At: t0.Add(at), Load: proxy.Load{Requests: total, RequestRate: rate}}
	}
	for _, tc := range []struct {
		name      string
		prev, cur proxy.Sample
		want      float64
		between   int64
	}{
		{"first reading: HAProxy's rate", proxy.Sample{}, s(0, 500, 7), 7, 500},
		{"counted over the period", s(0, 100, 1), s(2*time.Second, 300, 50), 100, 200},
		{"half a second", s(0, 100, 0), s(500*time.Millisecond, 110, 0), 20, 10},
		{"idle", s(0, 100, 0), s(time.Second, 100, 0), 0, 0},
		{"reloaded in between: HAProxy's rate", s(0, 1000, 30), s(time.Second, 12, 11), 11, 12},
		{"no time elapsed", s(time.Second, 100, 4), s(time.Second, 120, 4), 4, 20},
		{"clock went back", s(2*time.Second, 100, 4), s(time.Second, 120, 5), 5, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := proxy.RequestsPerSecond(tc.prev, tc.cur); got != tc.want {
				t.Errorf("RequestsPerSecond = %v, want %v", got, tc.want)
			}
			if got := proxy.RequestsBetween(tc.prev, tc.cur); got != tc.between {
				t.Errorf("RequestsBetween = %v, want %v", got, tc.between)
			}
		})
	}
}
