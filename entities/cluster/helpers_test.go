package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/cluster"
	_ "github.com/gantry-dev/gantry/entities/stock"
	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/sensors"
)

// Test kinds: a member whose start can fail (failMemberIDs lists the cluster.member.id
// values that fail), block until a gate opens, and be watched (how many start at once);
// and a load balancer that publishes main.uri.
const (
	memberType = "test.cluster.member"
	lbType     = "test.cluster.lb"
)

var (
	gates    sync.Map // name -> chan struct{}
	watchers sync.Map // name -> *concurrency
	starts   sync.Map // entity id -> *atomic.Int32
)

// concurrency counts the starts in progress and the most there were at once.
type concurrency struct {
	now, most atomic.Int32
}

func init() {
	entities.Register(&entities.Type{
		Name: memberType,
		Config: []entities.ConfigKey{
			{Name: "failMemberIDs", Type: "list"},
			{Name: "gate", Type: "string"},
			{Name: "watch", Type: "string"},
			{Name: "startDelay", Type: "duration"},
		},
		Start: func(ctx context.Context, e *entities.Entity) error {
			n, _ := starts.LoadOrStore(e.ID(), new(atomic.Int32))
			n.(*atomic.Int32).Add(1)
			if w, ok := watchers.Load(e.ConfigString("watch")); ok {
				c := w.(*concurrency)
				now := c.now.Add(1)
				defer c.now.Add(-1)
				for {
					most := c.most.Load()
					if now <= most || c.most.CompareAndSwap(most, now) {
						break
					}
				}
			}
			if d := e.ConfigDuration("startDelay", 0); d > 0 {
				time.Sleep(d)
			}
			if g, ok := gates.Load(e.ConfigString("gate")); ok {
				select {
				case <-g.(chan struct{}):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			id, _ := e.Config(cluster.KeyMemberID)
			fails, _ := e.Config("failMemberIDs")
			l, _ := fails.([]any)
			for _, x := range l {
				if fmt.Sprint(x) == fmt.Sprint(id) {
					return errors.New("told to fail")
				}
			}
			e.SetAttribute("started", true)
			return nil
		},
	})
	entities.Register(&entities.Type{
		Name:   lbType,
		Config: []entities.ConfigKey{{Name: cluster.KeyServerPool, Type: "string"}},
		Start: func(ctx context.Context, e *entities.Entity) error {
			e.SetAttribute(sensors.MainURI, "http://lb.example:8000/")
			return nil
		},
	})
}

// startsOf says how many times the member with that id was started.
func startsOf(id string) int32 {
	n, ok := starts.Load(id)
	if !ok {
		return 0
	}
	return n.(*atomic.Int32).Load()
}

// gate makes a closed gate (starts wait at it) and returns the function that opens it.
func gate(t *testing.T) (name string, open func()) {
	name = fmt.Sprintf("gate-%s-%d", t.Name(), time.Now().UnixNano())
	ch := make(chan struct{})
	gates.Store(name, ch)
	var once sync.Once
	open = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(open)
	return name, open
}

func memberSpec(cfg map[string]any) *entities.Spec {
	return &entities.Spec{Type: memberType, Name: "member", Config: cfg}
}

// clusterApp is an application of one cluster with the given config, whose members are
// made from member.
func clusterApp(cfg map[string]any, member *entities.Spec) *entities.Spec {
	c := &entities.Spec{Type: "cluster", Name: "pool", Config: cfg}
	if member != nil {
		c.EntitySpecs = map[string]*entities.Spec{cluster.KeyMemberSpec: member}
	}
	return &entities.Spec{Type: "basic-application", Name: "app", Children: []*entities.Spec{c}}
}

// deploy deploys spec on m and waits for its start; it returns the application and its
// first child.
func deploy(t *testing.T, m *entities.Management, spec *entities.Spec) (app, first *entities.Entity, err error) {
	t.Helper()
	app, task, err := m.Deploy(context.Background(), spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = wait(t, task)
	return app, app.Children()[0], err
}

func wait(t *testing.T, task *entities.Task) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err := task.Wait(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("task did not end")
	}
	return err
}

// invoke calls an effector and waits for its result.
func invoke(t *testing.T, e *entities.Entity, effector string, params map[string]any) (any, error) {
	t.Helper()
	task, err := e.Management().Invoke(context.Background(), e, effector, params)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, task); err != nil {
		return nil, err
	}
	return task.Outcome()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ids(es []*entities.Entity) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID()
	}
	return out
}

func names(es []*entities.Entity) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name()
	}
	return out
}

// quarantineOf returns the cluster's quarantine group.
func quarantineOf(t *testing.T, c *entities.Entity) *entities.Entity {
	t.Helper()
	v, _ := c.Attribute(cluster.SensorQuarantineGroup)
	id, _ := v.(string)
	q, err := c.Management().Entity(id)
	if err != nil {
		t.Fatalf("quarantine group of %s: %v", c, err)
	}
	return q
}

// checkCluster checks that the cluster has want members, all running, all of them its
// children, that its other children are its quarantine group and the quarantined, and
// that its sensors say so.
func checkCluster(t *testing.T, c *entities.Entity, want int) {
	t.Helper()
	members := c.Members()
	if len(members) != want {
		t.Fatalf("%d members (%v), want %d", len(members), names(members), want)
	}
	q := quarantineOf(t, c)
	for _, ch := range c.Children() {
		if ch != q && !c.HasMember(ch) && !q.HasMember(ch) {
			t.Errorf("child %s is neither a member nor quarantined", ch)
		}
	}
	for _, m := range members {
		if m.Parent() != c {
			t.Errorf("member %s is not a child", m)
		}
		if m.State() != entities.Running {
			t.Errorf("member %s is %s", m, m.State())
		}
	}
	if n, _ := c.Attribute(sensors.GroupMembersCount); fmt.Sprint(n) != fmt.Sprint(want) {
		t.Errorf("group.members.count = %v, want %d", n, want)
	}
	first, _ := c.Attribute(sensors.ClusterFirst)
	if want > 0 && (first == nil || !slices.Contains(ids(members), first.(string))) {
		t.Errorf("cluster.first = %v, not a member of %v", first, ids(members))
	}
	if want == 0 && first != nil {
		t.Errorf("cluster.first = %v with no members", first)
	}
}

func newManagement(t *testing.T) *entities.Management {
	return testenv.Management(t, entities.Options{})
}
