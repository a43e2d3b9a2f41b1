package stock

import "github.com/gantry-dev/gantry/entities"

// Type names, as Brooklyn spells them.
const (
	Application = "org.apache.brooklyn.entity.stock.BasicApplication"
	Entity      = "org.apache.brooklyn.entity.stock.BasicEntity"
	// WrapperAppKey marks an application that wraps the services of a blueprint.
	WrapperAppKey = "brooklyn.wrapper_app"
)

func init() {
	entities.Register(&entities.Type{
		Name:        Application,
		Aliases:     []string{"basic-application", "BasicApplication"},
		Description: "An application: the root of a deployed tree; running when all its children are up",
		Application: true,
		Config: []entities.ConfigKey{
			{Name: WrapperAppKey, Type: "boolean", Description: "Set on the application Gantry wraps around a blueprint's services"},
		},
	})
	entities.Register(&entities.Type{
		Name:        Entity,
		Aliases:     []string{"basic-entity", "BasicEntity"},
		Description: "An entity with no behaviour of its own; running when its children are up",
	})
}
