package network

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gantry-dev/gantry/entities"
)

// setting is the value of an sdn key for e: its own or inherited config, else the config
// of its location (a Docker cloud's sdn.enable, sdn.provider ...).
func setting(e *entities.Entity, key string) (any, bool) {
	if v, ok := e.Config(key); ok && v != nil && v != "" {
		return v, true
	}
	for _, id := range e.Locations() {
		l, err := e.Management().Locations().Get(id)
		if err != nil {
			continue
		}
		if c, ok := l.(interface{ Config() map[string]any }); ok {
			if v, ok := c.Config()[key]; ok && v != nil && v != "" {
				return v, true
			}
		}
	}
	return nil, false
}

func settingString(e *entities.Entity, key string) string {
	v, ok := setting(e, key)
	if !ok {
		return ""
	}
	return fmt.Sprint(v)
}

// truthy reads a boolean setting: true, or "true" in any case.
func truthy(e *entities.Entity, key string) bool {
	v, _ := setting(e, key)
	return isTrue(v)
}

func isTrue(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(strings.TrimSpace(x), "true")
	}
	return false
}

func stringMap(e *entities.Entity, key string) map[string]string {
	v, _ := e.Config(key)
	m, _ := v.(map[string]any)
	out := make(map[string]string, len(m))
	for k, x := range m {
		out[k] = fmt.Sprint(x)
	}
	return out
}

// stringList reads a sensor holding a list of strings (as []any after a reload).
func stringList(e *entities.Entity, sensor string) []string {
	v, _ := e.Attribute(sensor)
	return asStrings(v)
}

func asStrings(v any) []string {
	switch l := v.(type) {
	case []string:
		return append([]string(nil), l...)
	case []any:
		out := make([]string, 0, len(l))
		for _, x := range l {
			if s, ok := x.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	case string: // network.list: "a, b" or "a"
		var out []string
		for _, s := range strings.Split(l, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func toInt(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case float64:
		return int(x), nil
	case string:
		return strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(x), "/"))
	}
	return 0, fmt.Errorf("%v is not a number", v)
}
