package ssh

import (
	"bytes"
	"testing"
)

// The marked lines are taken out wherever they come, however the output is
// split into writes; other output passes unchanged.
func TestPidFilter(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantOut string
		wantPid int
		wantDir string
	}{
		{name: "pid first", in: "\036gantry-pid 42\nerr1\nerr2", wantOut: "err1\nerr2", wantPid: 42},
		{name: "login noise first", in: "bash: warning: x\n\036gantry-pid 7\n\036gantry-nodir mkdir: denied\nrest\n", wantOut: "bash: warning: x\nrest\n", wantPid: 7, wantDir: "mkdir: denied"},
		{name: "no markers", in: "plain\noutput", wantOut: "plain\noutput"},
		{name: "marker-like prefix", in: "\036gan\n\036other\n", wantOut: "\036gan\n\036other\n"},
		{name: "marker mid-line is output", in: "x \036gantry-pid 9\n", wantOut: "x \036gantry-pid 9\n"},
		{name: "unknown marker kept", in: "\036gantry-what 1\n", wantOut: "\036gantry-what 1\n"},
		{name: "held start flushed", in: "\036gant", wantOut: "\036gant"},
		{name: "empty", in: "", wantOut: ""},
	}
	for _, tt := range tests {
		for _, size := range []int{1, 2, 3, 7, 1000} {
			var out bytes.Buffer
			f := &pidFilter{w: &out}
			in := []byte(tt.in)
			for len(in) > 0 {
				k := min(size, len(in))
				if n, err := f.Write(in[:k]); n != k || err != nil {
					t.Fatalf("%s/%d: Write = %d, %v", tt.name, size, n, err)
				}
				in = in[k:]
			}
			f.Flush()
			dir, _ := f.DirError()
			if out.String() != tt.wantOut || f.PID() != tt.wantPid || dir != tt.wantDir {
				t.Errorf("%s, writes of %d: out %q pid %d dir %q; want %q %d %q", tt.name, size, out.String(), f.PID(), dir, tt.wantOut, tt.wantPid, tt.wantDir)
			}
		}
	}
}
