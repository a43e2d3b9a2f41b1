package main

// The client commands of the gantry binary: dispatch, flags, errors and exit codes.
// Each command is a function of cli and its arguments; output goes through the
// helpers of cli_output.go so that every command can print a table, JSON or YAML.

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/gantry-dev/gantry/client"
)

// Exit codes a script can rely on.
const (
	exitOK           = 0   // the command did what it was asked
	exitFailed       = 1   // an operation failed: a task ended in error, the server failed or could not be reached
	exitUsage        = 2   // a usage mistake, or input the server refused (a blueprint, a value)
	exitNotFound     = 3   // the application, entity, sensor, task ... does not exist
	exitUnauthorized = 4   // the server wants other credentials (401) or refuses the user (403)
	exitInterrupted  = 130 // interrupted (Ctrl-C), as a shell reports SIGINT
)

// command is one client command.
type command struct {
	name    string
	aliases []string
	args    string // the synopsis after the name: "APP [ENTITY]"
	summary string // one line, for `gantry help`
	help    string // what `gantry help CMD` says before the flags: details and examples
	run     func(c *cli, args []string) error
}

// commands in the order `gantry help` lists them; see cli_help.go for their texts.
var commands []*command

func findCommand(name string) *command {
	for _, cmd := range commands {
		if cmd.name == name || slices.Contains(cmd.aliases, name) {
			return cmd
		}
	}
	return nil
}

// cli is one run of a client command.
type cli struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer

	cmd    *command
	server string // --server
	output string // -o: table, json or yaml

	conn *connection // the server and credentials in use, resolved once
}

// exitError ends the command with a code and a message already worded for a person.
type exitError struct {
	code  int
	msg   string
	usage bool // a mistake in the command line: the message points at the help
}

func (e *exitError) Error() string { return e.msg }

// errHelp ends a command whose help was asked for and printed.
var errHelp = errors.New("help printed")

func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, msg: fmt.Sprintf(format, args...), usage: true}
}

func failedf(format string, args ...any) error {
	return &exitError{code: exitFailed, msg: fmt.Sprintf(format, args...)}
}

// runCLI runs a client command (args[0] is its name) and gives the exit code.
func runCLI(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &cli{ctx: ctx, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	return c.main(args)
}

func (c *cli) main(args []string) int {
	// Flags before the command apply to it: gantry --server URL -o json apps.
	fs := flag.NewFlagSet("gantry", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.commonFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(c.stdout, topHelp())
			return exitOK
		}
		return c.report(usageErrorf("%v", err))
	}
	args = fs.Args()
	if len(args) == 0 {
		fmt.Fprint(c.stderr, topHelp())
		return exitUsage
	}
	c.cmd = findCommand(args[0])
	if c.cmd == nil {
		fmt.Fprintf(c.stderr, "gantry: unknown command %q\nRun 'gantry help' for the list of commands.\n", args[0])
		return exitUsage
	}
	if err := c.checkOutput(); err != nil {
		return c.report(err)
	}
	return c.report(c.cmd.run(c, args[1:]))
}

// commonFlags registers the flags every command takes.
func (c *cli) commonFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.server, "server", c.server, "the server's `URL` (default: $GANTRY_URL, else the one of gantry login, else http://127.0.0.1:8081)")
	fs.StringVar(&c.output, "o", c.output, "output `format`: table, json or yaml")
	fs.StringVar(&c.output, "output", c.output, "output `format`, same as -o")
}

func (c *cli) checkOutput() error {
	switch c.output {
	case "", "table", "json", "yaml":
		return nil
	}
	return usageErrorf("-o %s: the output format is table, json or yaml", c.output)
}

// flags returns the flag set of the running command, with the common flags.
func (c *cli) flags() *flag.FlagSet {
	fs := flag.NewFlagSet(c.cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.commonFlags(fs)
	return fs
}

// parse reads flags and positional arguments in any order (a "--" ends the flags)
// and checks there are between min and max positional ones (max < 0: no limit).
func (c *cli) parse(fs *flag.FlagSet, args []string, min, max int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.printCommandHelp(fs)
				return nil, errHelp
			}
			return nil, usageErrorf("%v", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if err := c.checkOutput(); err != nil {
		return nil, err
	}
	switch {
	case len(pos) < min:
		return nil, usageErrorf("%s: missing arguments; usage: gantry %s %s", c.cmd.name, c.cmd.name, c.cmd.args)
	case max >= 0 && len(pos) > max:
		return nil, usageErrorf("%s: too many arguments; usage: gantry %s %s", c.cmd.name, c.cmd.name, c.cmd.args)
	}
	return pos, nil
}

// report prints err as a message for a person and gives the exit code.
func (c *cli) report(err error) int {
	if err == nil || errors.Is(err, errHelp) {
		return exitOK
	}
	code, msg := explain(err, c.conn)
	var ee *exitError
	if errors.As(err, &ee) && ee.usage && c.cmd != nil {
		msg += fmt.Sprintf("\nRun 'gantry help %s' for usage.", c.cmd.name)
	}
	if msg != "" {
		fmt.Fprintln(c.stderr, "gantry:", msg)
	}
	return code
}

// explain maps an error to an exit code and a message: the server's own message for
// a response outside 2xx, never its raw body.
func explain(err error, conn *connection) (int, string) {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code, ee.msg
	}
	var ce *client.Error
	if errors.As(err, &ce) {
		return codeOf(ce), ce.Message
	}
	if errors.Is(err, context.Canceled) {
		return exitInterrupted, "interrupted"
	}
	where := "the server"
	if conn != nil {
		where = conn.url
	}
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) {
		return exitFailed, fmt.Sprintf("the certificate of %s is not trusted: %v\n(name its certificate authority with gantry login URL --ca-cert FILE, or $GANTRY_CA_CERT)", where, cve.Err)
	}
	var ue *url.Error
	var ne net.Error
	if errors.As(err, &ue) || errors.As(err, &ne) {
		cause := err
		if ue != nil {
			cause = ue.Err
		}
		return exitFailed, fmt.Sprintf("cannot reach %s: %v\n(is `gantry server` running there? Name another with --server, $GANTRY_URL or `gantry login`.)", where, cause)
	}
	return exitFailed, err.Error()
}

// codeOf is the exit code of an answer outside 2xx.
func codeOf(ce *client.Error) int {
	switch ce.StatusCode {
	case 400, 409, 412, 415, 422:
		return exitUsage
	case 404:
		return exitNotFound
	case 401, 403:
		return exitUnauthorized
	}
	return exitFailed
}

// splitAt splits "id:version" at its last colon; version is "" when there is none.
func splitAt(s string) (id, version string) {
	if i := strings.LastIndexByte(s, ':'); i > 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}
