// Package software registers Brooklyn's VanillaSoftwareProcess: a process set up and run
// by shell commands (install, customize, launch, checkRunning, stop) on a location that
// can run commands (localhost now, SSH machines later). Each phase is a subtask with its
// output captured; checkRunning is polled while the process runs. It also registers
// EmptySoftwareProcess (server), a bare machine.
//
// Both follow Brooklyn's software-process conventions (conventions.go): commands run in
// $RUN_DIR with $RUN_DIR, $INSTALL_DIR and $PID_FILE set; download.url is fetched and
// unpacked into $INSTALL_DIR; files.install and files.runtime are copied; port ranges
// (8000+) are resolved to free ports and published (ports.go); and without
// checkRunning.command or stop.command, the process in $PID_FILE is checked and stopped.
//
// It imports entities, locations and sensors.
package software
