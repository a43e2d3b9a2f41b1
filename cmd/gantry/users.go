package main

// gantry users: the users file of `gantry server --users FILE` (server/users.go). It
// is edited in place; a running server reads it again within a second.

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/gantry-dev/gantry/server"
)

const usersUsage = `gantry users: the users of gantry server --users FILE

  gantry users add FILE NAME --role ROLE --password-stdin
        add a user, or change its password and role; the password is read from
        standard input (its first line) and kept as a bcrypt hash. FILE is created
        (mode 0600) when it does not exist. ROLE: root, poweruser, user, readonly.
  gantry users token FILE NAME [--label TEXT]
        make an API token for NAME and print it (it is shown only this once; the
        file keeps its SHA-256). Send it as "Authorization: Bearer TOKEN", or as the
        password of NAME.
  gantry users list FILE
        the users, their roles and their tokens' ids
  gantry users revoke FILE NAME TOKEN-ID
        remove a token of NAME (the id, or the start of it, as list shows it)
  gantry users remove FILE NAME
        remove a user

Roles, as Brooklyn's entitlements:
  root, poweruser  everything
  user             see; deploy and delete applications, invoke effectors, start and
                   stop policies, add to the catalog
  readonly         see only

Example:
  echo "$ADMIN_PASSWORD" | gantry users add users.yaml admin --role root --password-stdin
  gantry server --bind 0.0.0.0:8443 --users users.yaml --tls-cert cert.pem --tls-key key.pem
`

// runUsers runs `gantry users ...` and returns the exit code: 0, 1 when it failed,
// 2 for a usage mistake.
func runUsers(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usersUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	err := usersCommand(args[0], args[1:], stdin, stdout, stderr)
	var ue usersUsageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "gantry users %s: %v\n\n%s", args[0], err, usersUsage)
		return 2
	default:
		fmt.Fprintf(stderr, "gantry users %s: %v\n", args[0], err)
		return 1
	}
}

// usersUsageError is a mistake in the command line.
type usersUsageError struct{ msg string }

func (e usersUsageError) Error() string { return e.msg }

func usersMistake(format string, args ...any) error {
	return usersUsageError{fmt.Sprintf(format, args...)}
}

func usersCommand(cmd string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("users "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	role := fs.String("role", "", "the user's role")
	passwordStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	label := fs.String("label", "", "what the token is for")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return usersMistake("%v", err)
	}
	want := func(names ...string) error {
		if len(pos) != len(names) {
			return usersMistake("takes %s", strings.Join(names, " "))
		}
		return nil
	}
	switch cmd {
	case "add":
		if err := want("FILE", "NAME"); err != nil {
			return err
		}
		if *role == "" {
			return usersMistake("--role is required (root, poweruser, user or readonly)")
		}
		if !*passwordStdin {
			return usersMistake("give the password on standard input with --password-stdin (it never goes on the command line)")
		}
		password, err := readPassword(stdin)
		if err != nil {
			return err
		}
		u, err := server.ReadOrNewUsers(pos[0])
		if err != nil {
			return err
		}
		added, err := u.SetPassword(pos[1], *role, password)
		if err != nil {
			return err
		}
		if err := u.Write(pos[0]); err != nil {
			return err
		}
		what := "changed"
		if added {
			what = "added"
		}
		fmt.Fprintf(stderr, "user %s %s in %s (role %s)\n", pos[1], what, pos[0], u.Find(pos[1]).Role)
		return nil
	case "token":
		if err := want("FILE", "NAME"); err != nil {
			return err
		}
		u, err := server.ReadUsers(pos[0])
		if err != nil {
			return err
		}
		token, t, err := u.NewToken(pos[1], *label)
		if err != nil {
			return err
		}
		if err := u.Write(pos[0]); err != nil {
			return err
		}
		fmt.Fprintln(stdout, token)
		fmt.Fprintf(stderr, "token %s of %s saved in %s; it is shown only now\n", t.ID, pos[1], pos[0])
		return nil
	case "list", "ls":
		if err := want("FILE"); err != nil {
			return err
		}
		u, err := server.ReadUsers(pos[0])
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tPASSWORD\tTOKENS")
		for _, usr := range u.Users {
			var ids []string
			for _, t := range usr.Tokens {
				id := t.ID
				if t.Label != "" {
					id += " (" + t.Label + ")"
				}
				ids = append(ids, id)
			}
			pw := "yes"
			if usr.Password == "" {
				pw = "no"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", usr.Name, usr.Role, pw, strings.Join(ids, ", "))
		}
		return tw.Flush()
	case "revoke":
		if err := want("FILE", "NAME", "TOKEN-ID"); err != nil {
			return err
		}
		u, err := server.ReadUsers(pos[0])
		if err != nil {
			return err
		}
		ok, err := u.RevokeToken(pos[1], pos[2])
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%s has no token %s", pos[1], pos[2])
		}
		if err := u.Write(pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "token %s of %s revoked\n", pos[2], pos[1])
		return nil
	case "remove", "rm":
		if err := want("FILE", "NAME"); err != nil {
			return err
		}
		u, err := server.ReadUsers(pos[0])
		if err != nil {
			return err
		}
		if !u.Remove(pos[1]) {
			return fmt.Errorf("no user %s in %s", pos[1], pos[0])
		}
		if err := u.Write(pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "user %s removed from %s\n", pos[1], pos[0])
		return nil
	}
	return usersMistake("unknown command %q", cmd)
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, which it returns.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// readPassword reads the first line of r, without its line ending.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input")
	}
	return line, nil
}
