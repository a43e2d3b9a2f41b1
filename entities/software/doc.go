// Package software registers Brooklyn's VanillaSoftwareProcess: a process set up and run
// by shell commands (install, customize, launch, checkRunning, stop) on a location that
// can run commands (localhost now, SSH machines later). Each phase is a subtask with its
// output captured; checkRunning is polled while the process runs.
//
// It imports entities, locations and sensors.
package software
