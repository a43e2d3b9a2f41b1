// Command gantry is Gantry's server and its command-line client.
//
//	gantry server [--bind 127.0.0.1:8081] [--data ./.gantry]
//	gantry version
//	gantry login URL [USER [PASSWORD]]
//	gantry deploy FILE|-
//	gantry apps | tree | app | entity | sensor | config | effector | invoke ...
//
// The client commands are in cli_*.go; `gantry help` lists them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/gantry-dev/gantry/server"
)

func main() {
	if len(os.Args) < 2 {
		os.Exit(runCLI(nil))
	}
	var err error
	switch os.Args[1] {
	case "server":
		err = runServer(os.Args[2:])
	case "users":
		os.Exit(runUsers(os.Args[2:], os.Stdin, os.Stdout, os.Stderr)) // users.go
	case "version":
		fmt.Println("gantry", server.Version)
	default: // the client commands, help included
		os.Exit(runCLI(os.Args[1:]))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gantry:", err)
		os.Exit(1)
	}
}

func runServer(args []string) error {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	cfg := server.Config{}
	fs.StringVar(&cfg.Bind, "bind", "127.0.0.1:8081", "address to serve the REST API on")
	fs.StringVar(&cfg.DataDir, "data", ".gantry", "directory of the embedded store")
	fs.StringVar(&cfg.DockerHost, "docker-host", "", "Docker Engine of the `docker` location (default: DOCKER_HOST or the local socket)")
	fs.StringVar(&cfg.LocationsFile, "locations", "", "file of named locations (YAML name: spec, or brooklyn.location.named.* properties)")
	fs.StringVar(&cfg.UsersFile, "users", "", "users file (`gantry users add FILE ...`): logging in is then required; without it the server only listens on loopback")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate (chain) to serve HTTPS with")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	verbose := fs.Bool("v", false, "log debug messages")
	fs.Parse(args)
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	err = s.ListenAndServe(ctx, nil)
	return errors.Join(err, s.Close())
}
