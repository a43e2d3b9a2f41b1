package cluster

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gantry-dev/gantry/entities"
)

// toInt reads a whole number: an int, a whole float64 (JSON and persisted values), or a
// string of one (form parameters).
func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int32:
		return int(x), true
	case int64:
		return int(x), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < math.MaxInt32 {
			return int(x), true
		}
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
			return n, true
		}
	}
	return 0, false
}

// configInt returns an integer config value of e, def when it is unset; a value that is
// not a whole number is an error naming the key.
func configInt(e *entities.Entity, key string, def int) (int, error) {
	v, ok := e.Config(key)
	if !ok || v == nil {
		return def, nil
	}
	n, ok := toInt(v)
	if !ok {
		return 0, fmt.Errorf("%s of %s is %v, not a whole number: %w", key, e, v, entities.ErrInvalid)
	}
	return n, nil
}

// configBool returns a boolean config value of e ("true"/"false" strings too), or def.
func configBool(e *entities.Entity, key string, def bool) bool {
	switch v, _ := e.Config(key); x := v.(type) {
	case bool:
		return x
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
			return b
		}
	}
	return def
}

// intParam reads an integer effector parameter.
func intParam(params map[string]any, name string) (int, error) {
	v, ok := params[name]
	if !ok || v == nil {
		return 0, fmt.Errorf("parameter %s is required: %w", name, entities.ErrInvalid)
	}
	n, ok := toInt(v)
	if !ok {
		return 0, fmt.Errorf("parameter %s is %v, not a whole number: %w", name, v, entities.ErrInvalid)
	}
	return n, nil
}

// stringParam reads a string effector parameter, required.
func stringParam(params map[string]any, name string) (string, error) {
	v, ok := params[name]
	if !ok || v == nil {
		return "", fmt.Errorf("parameter %s is required: %w", name, entities.ErrInvalid)
	}
	s := strings.TrimSpace(fmt.Sprint(v))
	if s == "" {
		return "", fmt.Errorf("parameter %s is empty: %w", name, entities.ErrInvalid)
	}
	return s, nil
}

// attrInt reads an integer sensor of e.
func attrInt(e *entities.Entity, name string) (int, bool) {
	v, ok := e.Attribute(name)
	if !ok {
		return 0, false
	}
	return toInt(v)
}

// attrString reads a string sensor of e ("" when unset).
func attrString(e *entities.Entity, name string) string {
	v, _ := e.Attribute(name)
	s, _ := v.(string)
	return s
}
