// Command gantryprof is `gantry server` with Go's profiler attached, for finding out
// where a benchmark's time or memory goes. It takes the same arguments as
// `gantry server`, so the benchmark driver can run it in place of bin/gantry:
//
//	go build -o /tmp/gantryprof ./bench/cmd/gantryprof
//	GANTRY_PPROF=127.0.0.1:6060 go run ./bench/cmd/gantrybench -gantry /tmp/gantryprof ...
//	go tool pprof -top http://127.0.0.1:6060/debug/pprof/heap
//
// GANTRY_PPROF is the address of the net/http/pprof endpoints (default 127.0.0.1:6060);
// GANTRY_CPUPROFILE, when set, is a file that receives a CPU profile of the whole run
// (written when the server stops on SIGTERM or SIGINT).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/gantry-dev/gantry/server"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "server" {
		if len(os.Args) >= 2 && os.Args[1] == "version" {
			fmt.Println("gantry", server.Version, "(gantryprof)")
			return
		}
		fmt.Fprintln(os.Stderr, "usage: gantryprof server [--bind ADDR] [--data DIR] [--docker-host URL] [-v]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	cfg := server.Config{}
	fs.StringVar(&cfg.Bind, "bind", "127.0.0.1:8081", "address to serve the REST API on")
	fs.StringVar(&cfg.DataDir, "data", ".gantry", "directory of the embedded store")
	fs.StringVar(&cfg.DockerHost, "docker-host", "", "Docker Engine of the `docker` location")
	verbose := fs.Bool("v", false, "log debug messages")
	fs.Parse(os.Args[2:])
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	addr := os.Getenv("GANTRY_PPROF")
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	go func() {
		if err := http.ListenAndServe(addr, nil); err != nil {
			cfg.Logger.Error("pprof endpoint", "err", err)
		}
	}()
	if path := os.Getenv("GANTRY_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gantryprof:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "gantryprof:", err)
			os.Exit(1)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := server.New(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gantryprof:", err)
		os.Exit(1)
	}
	err = s.ListenAndServe(ctx, nil)
	if err := errors.Join(err, s.Close()); err != nil {
		fmt.Fprintln(os.Stderr, "gantryprof:", err)
	}
}
