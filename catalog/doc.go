// Package catalog turns a parsed blueprint (blueprints.Plan) into the tree of
// entities.Spec that Management deploys: it resolves `type:` names (built-in names,
// Brooklyn's Java type names, docker:<image>), checks config keys and value types against
// the types' declarations, resolves locations, and applies Brooklyn's wrapper-application
// rule. Every error names the line, column and key path of the blueprint. The versioned
// catalog of reusable items arrives here with the blueprint-language work.
//
// It imports blueprints, entities and locations.
package catalog
