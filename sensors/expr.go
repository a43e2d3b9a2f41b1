package sensors

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"
)

// Expressions are written in expr-lang (https://expr-lang.org): a DynamicGroup's filter,
// a Transformer enricher's transformation, a rule policy's condition. They see one
// entity through the variables of Env, the same for every caller:
//
//	id             the entity's id
//	name           its display name
//	type           its type (kind) name, e.g. org.apache.brooklyn.entity.stock.BasicEntity
//	catalogItemId  the catalog item it came from ("" when none)
//	parent         its parent's id ("" for an application)
//	app            its application's id
//	tags           its tags, a list
//	config         its config, by key: config["http.port"], config.image
//	sensors        its sensor values, by name: sensors["service.isUp"], sensors["machine.cpu"]
//	value          the new value of the sensor that triggered the evaluation (a
//	               Transformer's source sensor, a rule's trigger); nil elsewhere
//
// Sensor and config names hold dots, so they are read with brackets, as map entries:
// sensors["service.isUp"]. (A name without dots may also be written sensors.up.) A
// sensor that has no value reads as nil: write sensors["machine.cpu"] ?? 0 where a
// number is needed, since comparing nil with a number is an error. expr's builtins are
// all there (len, filter, any, all, float, int, string, upper, lower, now, duration, ...),
// and strings have the operators contains, startsWith, endsWith and matches.
//
// For example:
//
//	type == "docker-container" && sensors["service.isUp"] == true
//	config["role"] == "web" && (sensors["machine.cpu"] ?? 0) > 0.8
//	value * 100
//	"prod" in tags
//
// Callers may add variables of their own by naming them to Compile and setting them in
// the map given to Eval.

// The names of the variables of an expression's environment.
const (
	VarID            = "id"
	VarName          = "name"
	VarType          = "type"
	VarCatalogItemID = "catalogItemId"
	VarParent        = "parent"
	VarApp           = "app"
	VarTags          = "tags"
	VarConfig        = "config"
	VarSensors       = "sensors"
	VarValue         = "value"
)

// Env is what an expression knows of one entity; Map turns it into the environment that
// Eval takes.
type Env struct {
	ID, Name, Type, CatalogItemID, Parent, App string
	Tags                                       []any
	Config                                     map[string]any
	Sensors                                    map[string]any
	// Value is the new value of the sensor that triggered the evaluation, if any.
	Value any
}

// Map is the environment of Env, with every variable set (empty maps and lists rather
// than nil ones).
func (e Env) Map() map[string]any {
	m := map[string]any{
		VarID: e.ID, VarName: e.Name, VarType: e.Type, VarCatalogItemID: e.CatalogItemID,
		VarParent: e.Parent, VarApp: e.App, VarTags: e.Tags, VarConfig: e.Config,
		VarSensors: e.Sensors, VarValue: e.Value,
	}
	if e.Tags == nil {
		m[VarTags] = []any{}
	}
	if e.Config == nil {
		m[VarConfig] = map[string]any{}
	}
	if e.Sensors == nil {
		m[VarSensors] = map[string]any{}
	}
	return m
}

// declared is the shape of the environment an expression is checked against.
func declared(extra []string) types.Map {
	str, list, dict := types.String, types.TypeOf([]any{}), types.TypeOf(map[string]any{})
	m := types.Map{
		VarID: str, VarName: str, VarType: str, VarCatalogItemID: str, VarParent: str, VarApp: str,
		VarTags: list, VarConfig: dict, VarSensors: dict, VarValue: types.Any,
	}
	for _, name := range extra {
		if _, ok := m[name]; !ok {
			m[name] = types.Any
		}
	}
	return m
}

// Expression is a compiled expression, safe for concurrent use.
type Expression struct {
	source  string
	program *vm.Program
}

// Compile parses and checks an expression against the environment described above, plus
// the variables named in extra (of any type). An error wraps ErrInvalid and gives the
// line and column (from 1) of the mistake, such as an unknown variable or a syntax error.
func Compile(expression string, extra ...string) (*Expression, error) {
	if strings.TrimSpace(expression) == "" {
		return nil, fmt.Errorf("expression is empty: %w", ErrInvalid)
	}
	p, err := expr.Compile(expression, expr.Env(declared(extra)))
	if err != nil {
		return nil, exprError(expression, err)
	}
	return &Expression{source: expression, program: p}, nil
}

// exprError says where an expression is wrong.
func exprError(src string, err error) error {
	return fmt.Errorf("%s: %w", where(src, err), ErrInvalid)
}

// where names the expression and the line and column (from 1) of an error in it.
func where(src string, err error) string {
	var fe *file.Error
	if errors.As(err, &fe) {
		return fmt.Sprintf("expression %q: line %d, column %d: %s", src, fe.Line, fe.Column+1, fe.Message)
	}
	return fmt.Sprintf("expression %q: %v", src, err)
}

// String is the expression's source.
func (x *Expression) String() string { return x.source }

// Eval runs the expression against env (see Env.Map). Variables missing from env read as
// nil. A run-time error (nil compared with a number, a string multiplied, ...) is
// returned, not panicked, with the line and column where it happened.
func (x *Expression) Eval(env map[string]any) (any, error) {
	if env == nil {
		env = map[string]any{}
	}
	v, err := expr.Run(x.program, env)
	if err != nil {
		return nil, errors.New(where(x.source, err))
	}
	return v, nil
}

// EvalBool runs a condition: true or false, with nil taken as false (a filter over a
// sensor that has no value yet does not match). Any other result is an error wrapping
// ErrInvalid.
func (x *Expression) EvalBool(env map[string]any) (bool, error) {
	v, err := x.Eval(env)
	if err != nil {
		return false, err
	}
	switch b := v.(type) {
	case bool:
		return b, nil
	case nil:
		return false, nil
	}
	return false, fmt.Errorf("expression %q gives %v (%T), not true or false: %w", x.source, v, v, ErrInvalid)
}
