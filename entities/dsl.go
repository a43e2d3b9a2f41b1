package entities

import "context"

// resolveDeferred evaluates the $brooklyn: DSL values of an entity's config before its
// kind starts, waiting (attributeWhenReady) where a value depends on another entity's
// sensor, so that start order follows the data. It is filled in by the DSL work.
func (m *Management) resolveDeferred(ctx context.Context, e *Entity) error { return nil }
