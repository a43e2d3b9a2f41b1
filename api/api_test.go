package api

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The files in testdata are shaped like Brooklyn's responses (keys, nesting, value
// formats). Each must decode into its type with no unknown key and encode back to
// the same JSON: the types neither miss nor invent a field.
func TestRoundTripBrooklynShapes(t *testing.T) {
	cases := []struct {
		file string
		into any
	}{
		{"applications.json", &[]ApplicationSummary{}},
		{"task.json", &TaskSummary{}},
		{"task_running.json", &TaskSummary{}},
		{"fetch.json", &[]EntityDetail{}},
		{"entity.json", &EntitySummary{}},
		{"sensors.json", &[]SensorSummary{}},
		{"config.json", &[]ConfigSummary{}},
		{"effectors.json", &[]EffectorSummary{}},
		{"location.json", &LocationSummary{}},
		{"version.json", &VersionSummary{}},
		{"error.json", &ApiError{}},
		{"catalog_entities.json", &[]CatalogItemSummary{}},
		{"policies.json", &[]PolicySummary{}},
		{"policy_config.json", &[]PolicyConfigSummary{}},
		{"adjuncts.json", &[]AdjunctSummary{}},
		{"adjunct_detail.json", &AdjunctDetail{}},
		{"catalog_policies.json", &[]CatalogPolicySummary{}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(c.into); err != nil {
				t.Fatalf("decode: %v", err)
			}
			again, err := json.Marshal(c.into)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(again, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(want, got) {
				t.Errorf("round trip differs\nwant %s\n got %s", compact(raw), again)
			}
		})
	}
}

func compact(b []byte) string {
	var buf bytes.Buffer
	_ = json.Compact(&buf, b)
	return buf.String()
}

// A zero task must still carry the keys br and Brooklyn clients expect, spelled as
// Brooklyn spells them.
func TestTaskSummaryKeys(t *testing.T) {
	b, err := json.Marshal(TaskSummary{ID: "t1", CurrentStatus: TaskInProgress})
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, key := range []string{`"isError":false`, `"isCancelled":false`, `"currentStatus":"In progress"`} {
		if !strings.Contains(s, key) {
			t.Errorf("%s lacks %s", s, key)
		}
	}
	for _, key := range []string{`"error"`, `"cancelled"`, `"endTimeUtc"`, `"result"`, `"submittedByTask"`} {
		if strings.Contains(s, key) {
			t.Errorf("%s has %s", s, key)
		}
	}
}

func TestTaskDone(t *testing.T) {
	cases := []struct {
		task TaskSummary
		done bool
	}{
		{TaskSummary{CurrentStatus: TaskInProgress, StartTimeUTC: 1}, false},
		{TaskSummary{CurrentStatus: "waiting on children"}, false},
		{TaskSummary{CurrentStatus: TaskCompleted, EndTimeUTC: 2}, true},
		{TaskSummary{CurrentStatus: TaskFailed}, true},
		{TaskSummary{IsCancelled: true}, true},
	}
	for _, c := range cases {
		if got := c.task.Done(); got != c.done {
			t.Errorf("%+v: Done() = %v, want %v", c.task, got, c.done)
		}
	}
}

func TestStatusOf(t *testing.T) {
	cases := []struct {
		state Lifecycle
		up    bool
		want  Status
	}{
		{LifecycleCreated, false, StatusAccepted},
		{LifecycleStarting, false, StatusStarting},
		{LifecycleRunning, true, StatusRunning},
		{LifecycleStopping, true, StatusStopping},
		{LifecycleStopped, false, StatusStopped},
		{LifecycleDestroyed, false, StatusDestroyed},
		{LifecycleOnFire, true, StatusError},
		{"", true, StatusRunning},
		{"", false, StatusUnknown},
		{"bogus", true, StatusUnknown},
	}
	for _, c := range cases {
		if got := StatusOf(c.state, c.up); got != c.want {
			t.Errorf("StatusOf(%q, %v) = %s, want %s", c.state, c.up, got, c.want)
		}
	}
}
