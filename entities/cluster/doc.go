// Package cluster registers Brooklyn's groups and clusters:
//
//   - DynamicCluster (cluster): members made from dynamiccluster.memberspec, which are
//     also its children, resized by the resize, resizeByDelta and replaceMember
//     effectors; members start in parallel with a bound, a member that fails to start
//     is quarantined (or removed), and the size asked for is persisted, so that a
//     resize cut short by a server restart is finished after the rebind, without
//     duplicates (cluster.go, converge.go).
//   - BasicGroup (group): members added and removed by effectors (group.go).
//   - DynamicGroup (dynamic-group): members chosen by an expr-lang filter over entity
//     fields, config and sensors (sensors.Compile), re-evaluated for one entity when
//     one of its sensors changes (group.go).
//   - ControlledDynamicWebAppCluster (controlled-cluster): a DynamicCluster and a load
//     balancer pointed at it, made on first start; it forwards resizes to the cluster,
//     mirrors its members and publishes the load balancer's main.uri (controlled.go).
//
// What a cluster decides (how many members to add, which to remove, what to do after a
// restart) are pure functions in decide.go, with table tests.
//
// It imports entities, locations and sensors.
package cluster
