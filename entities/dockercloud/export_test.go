package dockercloud

// DestroyScriptOf is the script that stops and removes the isolated engine Gantry runs
// for host id on a machine: tests run it after a failure, so that nothing is left.
func DestroyScriptOf(id string) string {
	return destroyScript(daemonPlan{ID: id, Listen: "0.0.0.0", Isolated: true})
}
