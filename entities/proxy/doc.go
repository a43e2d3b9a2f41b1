// Package proxy is Gantry's load balancer: HAProxy, run as a container from the
// locally built gantry/haproxy image (images/haproxy), round robin over the members of
// a group or cluster.
//
// The kind (kind.go) is registered as "load-balancer" (also "haproxy", and Brooklyn's
// org.apache.brooklyn.entity.proxy.nginx.NginxController, so that blueprints written for
// Brooklyn's nginx load balancer run: the config keys are Brooklyn's). Its entity is
// one container, through the container kind's lifecycle (container.Lifecycle), with
// HAProxy's master as the main process. It follows loadbalancer.serverpool on the bus
// (watch.go: group.members of the pool, and the up, address and port sensors of its
// members), routes to the members that are up and have both sensors, and reloads
// HAProxy when they change, gathered over a short debounce; a feed reads HAProxy's
// statistics for the request rate and the requests in flight. After a server restart
// it re-adopts its container and watches again, reloading only if the pool changed.
//
// The deciding parts are pure functions with table and golden tests: Render writes
// HAProxy's config from the listening port, the members and where statistics are
// served; ParseStats and LoadOf read HAProxy's CSV statistics; RequestsPerSecond
// turns two readings into a request rate. Apply and ReadStats do the I/O, through a
// Runner (a shell in the container): Apply writes a config and reloads HAProxy
// without refusing a connection (master-worker mode, SIGUSR2, listening sockets
// handed from the old worker to the new; see Command).
//
// It imports entities, entities/container, locations and sensors.
package proxy
