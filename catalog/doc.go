// Package catalog turns a parsed blueprint (blueprints.Plan) into the tree of
// entities.Spec that Management deploys: it resolves `type:` names (built-in names,
// Brooklyn's Java type names, docker:<image>), checks config keys and value types against
// the types' declarations, resolves locations, and applies Brooklyn's wrapper-application
// rule. Every error names the line, column and key path of the blueprint.
//
// It also resolves what the entities carry: brooklyn.parameters, brooklyn.initializers,
// brooklyn.policies and brooklyn.enrichers (adjuncts.go: registered policy and enricher
// kinds, or catalog items of itemType policy or enricher, their config checked by the
// kind), and the entity specs that config keys of type "spec" hold, such as a cluster's
// dynamiccluster.memberspec (specs.go: each resolved as a service of the blueprint).
//
// Catalog holds the versioned items added with Brooklyn's catalog BOMs (brooklyn.catalog:
// id, version, itemType, item or items, metadata inherited depth first), persisted in the
// store under catalog/items/. In a blueprint, `type: <id>` takes the best version of an
// item (versions ordered as Brooklyn orders them, CompareVersions) and
// `type: <id>:<version>` that version; the entity records which (Spec.CatalogItemID).
// Location items are found by LocationSpec, for the locations registry; policy and
// enricher items are the types of entries of brooklyn.policies and brooklyn.enrichers.
//
// $brooklyn: DSL values are checked before anything starts (dsl.go): each parses and
// names known functions, the entities their scopes name exist, and the start order their
// waits imply (attributeWhenReady on another entity; a child after its parent) has no
// cycle, else the error names the entities in it.
//
// It imports blueprints, entities, locations and store.
package catalog
