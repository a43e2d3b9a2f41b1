package proxy

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/entities"
)

// StatRow is one line of HAProxy's CSV statistics: a proxy (pxname) and a server or
// FRONTEND/BACKEND (svname), with every other column by its header name.
type StatRow struct {
	Proxy  string
	Server string
	Fields map[string]string
}

// Int returns a numeric column; false when the column is missing or empty.
func (r StatRow) Int(name string) (int64, bool) {
	s := r.Fields[name]
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// ParseStats reads HAProxy's statistics in CSV (`show stat`, or the stats URI with ;csv):
// a header line "# pxname,svname,..." then one line per proxy and server. Columns are
// taken by name, so versions that add columns read the same. A document without that
// header is an error wrapping entities.ErrInvalid.
func ParseStats(doc []byte) ([]StatRow, error) {
	doc = bytes.TrimLeft(doc, " \t\r\n")
	if !bytes.HasPrefix(doc, []byte("# ")) {
		return nil, fmt.Errorf("haproxy stats: no \"# pxname,...\" header: %w", entities.ErrInvalid)
	}
	r := csv.NewReader(bytes.NewReader(doc[2:]))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("haproxy stats: header: %v: %w", err, entities.ErrInvalid)
	}
	if len(header) < 2 || header[0] != "pxname" || header[1] != "svname" {
		return nil, fmt.Errorf("haproxy stats: header starts %q, not pxname,svname: %w", strings.Join(header[:min(2, len(header))], ","), entities.ErrInvalid)
	}
	var rows []StatRow
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("haproxy stats: %v: %w", err, entities.ErrInvalid)
		}
		if len(rec) < 2 {
			continue
		}
		row := StatRow{Proxy: rec[0], Server: rec[1], Fields: make(map[string]string, len(header))}
		for i := 2; i < len(rec) && i < len(header); i++ {
			if header[i] != "" && rec[i] != "" {
				row.Fields[header[i]] = rec[i]
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// Load is what the load balancer tells of the traffic it carries, from one reading of
// its statistics.
type Load struct {
	// Requests is the number of HTTP requests the frontend received since HAProxy's
	// worker started (req_tot of the frontend): a reload starts it again from 0.
	Requests int64
	// RequestRate is HAProxy's own count of HTTP requests over the last second
	// (req_rate of the frontend).
	RequestRate int64
	// InFlight is the number of requests being served or queued for a server (scur of
	// the backend: with one request per server connection, the requests in flight).
	InFlight int64
	// Connections is the number of client connections open, idle keep-alive ones
	// included (scur of the frontend).
	Connections int64
	// ServersUp is the number of servers of the backend whose health check passes.
	ServersUp int
}

// LoadOf finds the figures of frontend and backend in rows. A missing row is an error
// wrapping entities.ErrNotFound.
func LoadOf(rows []StatRow, frontend, backend string) (Load, error) {
	var l Load
	var fe, be bool
	for _, r := range rows {
		switch {
		case r.Proxy == frontend && r.Server == "FRONTEND":
			fe = true
			l.Requests, _ = r.Int("req_tot")
			l.RequestRate, _ = r.Int("req_rate")
			l.Connections, _ = r.Int("scur")
		case r.Proxy == backend && r.Server == "BACKEND":
			be = true
			l.InFlight, _ = r.Int("scur")
		case r.Proxy == backend && r.Server != "FRONTEND":
			if strings.HasPrefix(r.Fields["status"], "UP") {
				l.ServersUp++
			}
		}
	}
	if !fe {
		return l, fmt.Errorf("haproxy stats: no frontend %q: %w", frontend, entities.ErrNotFound)
	}
	if !be {
		return l, fmt.Errorf("haproxy stats: no backend %q: %w", backend, entities.ErrNotFound)
	}
	return l, nil
}

// Sample is a reading of the load at a time.
type Sample struct {
	At time.Time
	Load
}

// RequestsPerSecond is the request rate between two readings: the requests counted in
// between over the time elapsed. When there is no earlier reading (zero prev), no time
// elapsed, or the counter went back (HAProxy reloaded in between and counts again from
// 0), it is HAProxy's own rate over the last second.
func RequestsPerSecond(prev, cur Sample) float64 {
	elapsed := cur.At.Sub(prev.At).Seconds()
	if prev.At.IsZero() || elapsed <= 0 || cur.Requests < prev.Requests {
		return float64(cur.RequestRate)
	}
	return float64(cur.Requests-prev.Requests) / elapsed
}

// RequestsBetween is how many requests were counted between two readings: the
// difference, or, when the counter went back (a reload), what the new worker counted.
func RequestsBetween(prev, cur Sample) int64 {
	if cur.Requests < prev.Requests {
		return cur.Requests
	}
	return cur.Requests - prev.Requests
}
