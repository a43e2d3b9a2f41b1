// Package blueprints reads a YAML blueprint, in Apache Brooklyn's dialect of CAMP,
// into a Plan: a syntax tree of the application (name, id, locations, config, the
// services and their children, tags and raw policies/enrichers/initializers/
// parameters) in which every node keeps its line, column and key path, such as
// services[1].brooklyn.config.env.
//
// Parse checks the shape of the blueprint only: known root keys, services as a list
// of maps each with a type, ids unique across the plan, brooklyn.config as a map,
// location forms, no duplicate map keys, one YAML document. Whether a type exists or
// a config key is declared is decided later by the catalog package, which reports its
// own errors with Errorf and the positions kept here. Every error wraps ErrInvalid.
// ServiceAt reads a service written inside a value (the map of a $brooklyn:entitySpec in
// a config key) the same way, with the positions of that value.
//
// $brooklyn: DSL strings are kept as plain strings; YAML anchors, aliases and merge
// keys (<<) are resolved. ParseDSL reads one into a syntax tree (and ParseDSLValue
// Brooklyn's map form too), FindDSL finds them in a value with their positions, and the
// DSL's pure parts live here: its functions (DSLFunctions), the scopes over any entity
// tree (FindInScope; a MemberTree adds groups' members for member()), formatString, urlEncode, regexReplacement and durations.
//
// It imports nothing of Gantry's: only the standard library and gopkg.in/yaml.v3.
package blueprints
