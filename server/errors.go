package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/catalog"
	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
)

// errBadRequest marks a request the client got wrong (a bad parameter, a bad body).
var errBadRequest = errors.New("bad request")

// errPrecondition marks a request whose parts do not fit together, such as an entity id
// of another application than the one in the path (412, as Brooklyn answers it).
var errPrecondition = errors.New("precondition failed")

// statusOf is the one place where errors become HTTP status codes.
func statusOf(err error) int {
	switch {
	case errors.Is(err, blueprints.ErrInvalid), errors.Is(err, entities.ErrInvalid),
		errors.Is(err, locations.ErrInvalid), errors.Is(err, errBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, entities.ErrNotFound), errors.Is(err, locations.ErrNotFound), errors.Is(err, catalog.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, entities.ErrConflict), errors.Is(err, catalog.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, errPrecondition):
		return http.StatusPreconditionFailed
	case errors.Is(err, locations.ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// blueprintProblem is one entry of the `data` of a 400 for a bad blueprint.
type blueprintProblem struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, err error) {
	code := statusOf(err)
	body := api.ApiError{Message: err.Error(), Error: code}
	var many blueprints.Errors
	var one *blueprints.Error
	switch {
	case errors.As(err, &many):
		var probs []blueprintProblem
		for _, e := range many {
			probs = append(probs, blueprintProblem{e.Pos.Line, e.Pos.Column, e.Path, e.Msg})
		}
		body.Data = probs
	case errors.As(err, &one):
		body.Data = []blueprintProblem{{one.Pos.Line, one.Pos.Column, one.Path, one.Msg}}
	}
	writeJSON(w, code, body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
