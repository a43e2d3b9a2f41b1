// Command gantry is Gantry's server and command-line client.
//
//	gantry server [--bind 127.0.0.1:8081] [--data ./.gantry]
//	gantry deploy FILE           deploy a blueprint (- for standard input)
//	gantry apps                  list applications
//	gantry version
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/server"
)

const usage = `gantry: a blueprint-driven application management server

Usage:
  gantry server [--bind ADDR] [--data DIR] [--docker-host URL] [--locations FILE]
  gantry deploy FILE|-         deploy a blueprint and wait for it to start
  gantry apps                  list the applications
  gantry version

Client commands talk to $GANTRY_URL (default http://127.0.0.1:8081).
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "server":
		err = runServer(os.Args[2:])
	case "deploy":
		err = deploy(os.Args[2:])
	case "apps":
		err = apps()
	case "version":
		fmt.Println("gantry", server.Version)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "gantry: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
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

func newClient() *client.Client {
	url := os.Getenv("GANTRY_URL")
	if url == "" {
		url = "http://127.0.0.1:8081"
	}
	return client.New(url)
}

func deploy(args []string) error {
	if len(args) != 1 {
		return errors.New("deploy takes one blueprint file, or - for standard input")
	}
	var data []byte
	var err error
	if args[0] == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(args[0])
	}
	if err != nil {
		return err
	}
	ctx := context.Background()
	c := newClient()
	task, err := c.Deploy(ctx, data)
	if err != nil {
		return err
	}
	fmt.Printf("application %s (%s) deploying, task %s\n", task.EntityID, task.EntityDisplayName, task.ID)
	done, err := c.WaitTask(ctx, task.ID)
	if err != nil {
		return err
	}
	if done.IsError {
		return fmt.Errorf("start failed: %v", done.Result)
	}
	fmt.Println(done.CurrentStatus)
	return nil
}

func apps() error {
	list, err := newClient().Applications(context.Background())
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(list)
}
