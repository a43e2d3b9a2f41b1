package policies

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/sensors"
)

// RuleType names Gantry's rule policy (Brooklyn has none by this name); "rule" is its
// alias.
const RuleType = "io.gantry.policy.RulePolicy"

const (
	keyCondition = "condition"
	keyTriggers  = "triggers"
	keyTarget    = "target"
	keyCooldown  = "cooldown"
	memRuleTrue  = "conditionTrue" // the condition's last value
	memRuleFired = "lastFired"     // when the rule last fired (ms)
)

var ruleKind = &entities.AdjunctKind{
	Name:     RuleType,
	Aliases:  []string{"rule", "RulePolicy"},
	Category: entities.PolicyCategory,
	Description: "Invokes an effector when an expr-lang condition over its entity's sensors and config " +
		"becomes true, e.g. (sensors[\"machine.cpu\"] ?? 0) > 0.9",
	Config: []entities.ConfigKey{
		{Name: keyCondition, Type: "string", Description: "The condition, in expr-lang, over id, name, type, config, sensors, tags and value (required)"},
		{Name: keyTriggers, Type: "list", Description: "The sensors whose changes re-evaluate the condition (default: any sensor of the entity)"},
		{Name: keyEffector, Type: "string", Description: "The effector to invoke when the condition becomes true (required)"},
		{Name: keyArgs, Type: "map", Description: "The effector's arguments ($brooklyn: values are evaluated when it fires)"},
		{Name: keyTarget, Type: "object", Description: "The entity whose effector is invoked (default: the policy's entity)"},
		{Name: keyCooldown, Type: "duration", Default: "0s", Description: "The least time between two firings"},
	},
}

func init() {
	ruleKind.Check = func(cfg map[string]any) error {
		_, err := readRule(view{ruleKind, cfg})
		return err
	}
	ruleKind.Start = startRule
	entities.RegisterAdjunct(ruleKind)
}

type ruleSettings struct {
	condition *sensors.Expression
	triggers  []string
	effector  string
	cooldown  time.Duration
}

func readRule(src configSource) (ruleSettings, error) {
	r := &reader{src: src}
	s := ruleSettings{effector: r.str(keyEffector), cooldown: r.duration(keyCooldown)}
	cond := r.str(keyCondition)
	if v, ok := r.raw(keyTriggers); ok {
		switch x := v.(type) {
		case []any:
			for _, t := range x {
				s.triggers = append(s.triggers, fmt.Sprint(t))
			}
		case []string:
			s.triggers = x
		case string:
			s.triggers = []string{x}
		default:
			r.fail(keyTriggers, "%v is not a list of sensor names", v)
		}
	}
	if r.err != nil {
		return s, r.err
	}
	switch {
	case cond == "":
		return s, &entities.KeyError{Key: keyCondition, Err: fmt.Errorf("is required: %w", ErrInvalid)}
	case s.effector == "":
		return s, &entities.KeyError{Key: keyEffector, Err: fmt.Errorf("is required: %w", ErrInvalid)}
	}
	x, err := sensors.Compile(cond)
	if err != nil {
		return s, &entities.KeyError{Key: keyCondition, Err: fmt.Errorf("%w: %w", err, ErrInvalid)}
	}
	s.condition = x
	return s, nil
}

// RuleFires is the rule's decision: it fires when the condition is true and was not at
// the previous evaluation (an edge, so that a condition that stays true does not call the
// effector at every sensor change, nor again after a server restart), and the cooldown
// since the last firing has passed.
func RuleFires(wasTrue, isTrue bool, lastFired time.Time, cooldown time.Duration, now time.Time) bool {
	if !isTrue || wasTrue {
		return false
	}
	return lastFired.IsZero() || now.Sub(lastFired) >= cooldown
}

func startRule(a *entities.Adjunct) error {
	s, err := readRule(a)
	if err != nil {
		return err
	}
	e := a.Entity()
	target, err := a.ResolveEntity(keyTarget, e)
	if err != nil {
		return &entities.KeyError{Key: keyTarget, Err: err}
	}
	if _, ok := target.Type().Effector(s.effector); !ok {
		return &entities.KeyError{Key: keyEffector, Err: invalid("entity %s has no effector %q", target.ID(), s.effector)}
	}
	wasTrue, _ := a.Memory(memRuleTrue)
	state := wasTrue == true
	var mu sync.Mutex // one evaluation at a time: the first, then the subscription's
	evaluate := func(ctx context.Context, ev *sensors.Event) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		var value any
		env := ExprEnv(e, nil)
		if ev != nil {
			// The sensors as they are now, but the trigger as it was in its event, so that
			// a value that came and went is seen (an edge is not missed).
			value = ev.Value
			env[sensors.VarValue] = value
			if m, ok := env[sensors.VarSensors].(map[string]any); ok {
				m[ev.Sensor] = ev.Value
			}
		}
		ok, err := s.condition.EvalBool(env)
		if err != nil {
			a.Highlight(hlViolation, err.Error(), "")
			return
		}
		fires := RuleFires(state, ok, a.MemoryTime(memRuleFired), s.cooldown, now)
		if ok != state {
			state = ok
			a.Remember(memRuleTrue, ok)
		}
		if !fires {
			return
		}
		args, err := resolveArgs(a, keyArgs)
		if err != nil {
			a.Highlight(hlViolation, fmt.Sprintf("Arguments of %s: %v", s.effector, err), "")
			return
		}
		a.Remember(memRuleFired, now)
		a.Highlight(hlViolation, fmt.Sprintf("Condition %s became true", s.condition), "")
		if _, err := invokeAndWait(ctx, a, target, s.effector, args); err != nil && ctx.Err() == nil {
			a.Highlight("lastFailure", fmt.Sprintf("%s failed: %v", s.effector, err), "")
		}
	}
	// Evaluations happen in order on the subscription's goroutine, after a first one for
	// the values the entity has now.
	a.Subscribe(func(ev sensors.Event) bool {
		return ev.Entity == e.ID() && (len(s.triggers) == 0 || slices.Contains(s.triggers, ev.Sensor))
	}, func(ev sensors.Event) { evaluate(a.Context(), &ev) })
	a.Highlight(hlTriggers, fmt.Sprintf("When %s: %s on %s", s.condition, s.effector, target.Name()), "")
	go evaluate(a.Context(), nil)
	return nil
}
