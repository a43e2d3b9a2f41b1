// Package placement decides which Docker host of a Docker cloud a new container goes to.
//
// Everything here is a pure function of its arguments: the hosts as they are (their
// capacity, labels and the containers already placed on them), the request (what is to be
// placed) and a chain of strategies. Nothing is read from or written to anywhere else, so a
// decision can be replayed from its inputs and tested with tables. The caller (the
// docker-infrastructure kind) gathers the hosts, calls [Place] (or [Compile] once and
// [Chain.Place] many times), starts the container on the chosen host, and adds the
// placement to that host before the next decision.
//
// This package imports nothing of Gantry's; its only dependency is
// github.com/expr-lang/expr for affinity rules.
//
// # Strategies
//
// A chain is a list of strategies (Clocker's docker.container.strategies), configured as
//
//	[{type: max-containers, max: 2}, {type: breadth-first}]
//
// and parsed by [ParseStrategies]. Each strategy is a filter (it keeps or excludes a host)
// or a sorter (it orders the hosts that passed every filter). Types, with their parameters:
//
// Filters
//
//	max-containers  max: n (>= 1)      the host keeps fewer than n containers before this one.
//	                                   Without a max-containers strategy in the infrastructure
//	                                   chain or on the host, the limit is DefaultMaxContainers (8).
//	max-cpu         ratio: r (> 0, 1)  declared CPUs of the host's containers plus the request's
//	                                   <= host CPUs * r. A host of unknown CPUs (0) is excluded.
//	max-memory      ratio: r (> 0, 1)  the same for declared memory bytes.
//	hostname        pattern: regexp    the host's name matches (RE2 syntax, unanchored: use ^$).
//	label           labels: {k: v}     the host carries every one of these labels with that value
//	                                   ("*" as value: the label is present with any value).
//	group           (none)             the host holds no container of another group, and when
//	                                   some host already holds containers of the request's group,
//	                                   only such hosts qualify (co-locate one group, keep others
//	                                   away). The group is Request.Group, or Request.App when empty;
//	                                   the same for placed containers.
//	affinity        expr: "..."        an expr-lang rule (https://expr-lang.org) that must be true
//	anti-affinity   expr: "..."        an expr-lang rule that must be false
//
// Sorters
//
//	breadth-first     least used first: the host's use, with the request placed on it, is its
//	                  highest fraction of a limit in force (containers / max-containers, and
//	                  CPUs or memory / their limit when max-cpu or max-memory is in force), so
//	                  hosts fill in proportion to their limits. Equal hosts take turns (round robin).
//	depth-first       most used first (the same measure): fill the fullest host that still fits.
//	least-containers  fewest containers first (absolute count, whatever the limits).
//	random            a shuffle seeded from the request's ID (and the optional seed: "..."),
//	                  so a decision is reproducible.
//
// Type names are also accepted in Clocker's spellings ("BreadthFirst", "MaxContainers",
// "clocker.docker.location.strategy.basic.BreadthFirstPlacementStrategy"), and max-containers
// takes Clocker's maxContainers for max, hostname regex for pattern, affinity rule for expr.
// A limit (max-containers, max-cpu, max-memory) may appear once in the infrastructure chain.
//
// Sorters are compared in order: the first decides and the next ones break its ties; the last
// tie-break is the host ID, then the name, so every decision is deterministic. Without any
// sorter the chain behaves as breadth-first (Clocker's catalog default).
//
// # Three levels
//
// Strategies come from three places, merged for every decision:
//
//  1. the infrastructure chain (the chain passed to [Place] or [Compile]);
//  2. the host's own Host.Strategies: filters only, for that host. A max-containers,
//     max-cpu or max-memory given on a host replaces the infrastructure's for that host (a
//     bigger host may take more); other host filters are added to the infrastructure's;
//  3. the request's Request.Strategies: filters are added (an entity can only narrow the
//     choice, never lift a host's limit), and its sorters come before the infrastructure's
//     (the entity's preference decides, the infrastructure's breaks ties).
//
// Hosts that are not Up never get anything.
//
// # Affinity rules
//
// An affinity or anti-affinity rule is compiled once (by [ParseStrategies] or [Compile]) and
// evaluated per (host, request) against this environment ([Env]); names are lowercase:
//
//	host        id, name, labels (map), cpus, memory (bytes), up
//	request     id, app, entity, name, group, cpus, memory, labels
//	containers  the host's placed containers, each: id, app, entity, group, cpus, memory, labels
//	used        the host's totals: containers (count), cpus, memory
//
// for example
//
//	{type: anti-affinity, expr: 'any(containers, .app == request.app)'}     # spread an app
//	{type: affinity, expr: 'host.labels.zone == request.labels.zone'}
//	{type: affinity, expr: 'used.containers == 0'}                          # an empty host
//
// A rule must evaluate to a boolean; an error while evaluating it excludes the host and is
// reported with the decision's ErrNoFit.
//
// # No fit
//
// When no host passes, [Place] returns a *[NoFitError] (errors.Is(err, [ErrNoFit])) that
// says, for each constraint, how many hosts it excluded and why, for example
//
//	no host fits request web-1: max-containers 2: all 3 hosts full
//
// The headroom policy uses it to ask for a host; the message is what a user reads when none
// can come.
package placement
