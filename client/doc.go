// Package client is a Go client of Gantry's REST API v1, which follows Apache
// Brooklyn's. Gantry's CLI and the end-to-end tests drive the server through it.
//
//	c := client.New("http://127.0.0.1:8081", client.WithBasicAuth("admin", "secret"))
//	task, err := c.Deploy(ctx, blueprint)
//	...
//	task, err = c.WaitTask(ctx, task.ID)
//
// Applications and entities are named by id or display name, as the server
// accepts both. Every method takes a context first. A response outside 2xx
// becomes an *Error carrying the status code and the server's message; test it
// with errors.Is against ErrNotFound, ErrBadRequest, ErrConflict or
// ErrUnauthorized.
//
// The package imports only api and the standard library.
package client
