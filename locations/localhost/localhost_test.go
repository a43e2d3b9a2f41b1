package localhost_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/localhost"
)

func TestLocation(t *testing.T) {
	var l locations.Location = localhost.New()
	if l.ID() != "localhost" || l.Kind() != "localhost" || l.Spec() != "localhost" {
		t.Fatalf("ID/Kind/Spec = %q/%q/%q", l.ID(), l.Kind(), l.Spec())
	}
	if _, ok := l.(locations.Executor); !ok {
		t.Fatal("localhost is not an Executor")
	}
	if l.Config()["hostname"] == "" {
		t.Fatalf("Config = %v", l.Config())
	}
}

func TestExec(t *testing.T) {
	t.Setenv("GANTRY_TEST_INHERITED", "from-parent")
	t.Setenv("GANTRY_TEST_OVERRIDDEN", "parent")
	tmp := t.TempDir()
	cases := append(testenv.CommonExecCases(tmp), testenv.ExecCase{
		Name: "env merged over environment",
		Cmd: locations.Command{
			Script: `echo "$GANTRY_TEST_INHERITED $GANTRY_TEST_OVERRIDDEN $GANTRY_TEST_NEW"`,
			Env:    map[string]string{"GANTRY_TEST_OVERRIDDEN": "child", "GANTRY_TEST_NEW": "with space"},
		},
		WantStdout: "from-parent child with space\n",
	})
	testenv.RunExecCases(t, localhost.New(), cases)
	if _, err := os.Stat(filepath.Join(tmp, "a", "b c", "made")); err != nil {
		t.Errorf("script did not run in the created dir: %v", err)
	}
}

func TestExecNilWriters(t *testing.T) {
	code, err := localhost.New().Exec(t.Context(), locations.Command{Script: "echo discarded; echo discarded >&2"})
	if code != 0 || err != nil {
		t.Fatalf("Exec = %d, %v", code, err)
	}
}

func TestExecStreamsOutput(t *testing.T) { testenv.ExecStreamsOutput(t, localhost.New()) }

func TestExecCancelKillsProcessGroup(t *testing.T) {
	testenv.ExecCancelKillsProcessGroup(t, localhost.New())
}

func TestExecCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	code, err := localhost.New().Exec(ctx, locations.Command{Script: "echo never"})
	if code != -1 || !errors.Is(err, context.Canceled) {
		t.Fatalf("Exec = %d, %v", code, err)
	}
}

func TestExecBackgroundChildHoldingOutput(t *testing.T) {
	testenv.ExecBackgroundChildHoldingOutput(t, localhost.New())
}

func TestMergeEnv(t *testing.T) {
	tests := []struct {
		name string
		base []string
		over map[string]string
		want []string
	}{
		{name: "empty", want: []string{}},
		{name: "base only sorted", base: []string{"B=2", "A=1"}, want: []string{"A=1", "B=2"}},
		{name: "override", base: []string{"A=1", "B=2"}, over: map[string]string{"A": "x", "C": "3"}, want: []string{"A=x", "B=2", "C=3"}},
		{name: "value with equals", base: []string{"A=b=c"}, want: []string{"A=b=c"}},
		{name: "later duplicate wins", base: []string{"A=1", "A=2"}, want: []string{"A=2"}},
		{name: "malformed dropped", base: []string{"novalue", "=x", "A="}, want: []string{"A="}},
		{name: "empty value set", over: map[string]string{"A": ""}, want: []string{"A="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := localhost.MergeEnv(tt.base, tt.over); !slices.Equal(got, tt.want) {
				t.Fatalf("MergeEnv = %q, want %q", got, tt.want)
			}
		})
	}
}
