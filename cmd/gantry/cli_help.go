package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

func init() {
	commands = []*command{
		{name: "login", args: "URL [USER [PASSWORD]]", run: runLogin,
			summary: "check a server and save it, with credentials, for the next commands",
			help: `Connects to the server at URL (http:// when no scheme is given), with HTTP Basic
credentials when a USER is given (or an API token with --token), and saves URL and
credentials in ~/.gantry/config (mode 0600; $GANTRY_CONFIG names another file).
Later commands talk to that server unless --server or $GANTRY_URL names another.
With a USER and no PASSWORD, the password is asked for (without echo), or read from
standard input. Wrong credentials exit with 4 and save nothing.

Examples:
  gantry login http://127.0.0.1:8081
  gantry login https://gantry.example.com admin
  echo "$PASS" | gantry login https://gantry.example.com admin --password-stdin
  gantry login https://gantry.example.com --token "$GANTRY_TOKEN"`},

		{name: "deploy", args: "FILE|-", run: runDeploy,
			summary: "deploy a blueprint and show its start as it progresses",
			help: `Posts a YAML blueprint (- reads standard input) and follows the start task of the
new application, printing each step as it starts and ends. When the start fails, the
output of the steps that failed is printed, and the exit code is 1. A blueprint the
server refuses is printed as FILE:LINE:COLUMN: problem, one a line, and nothing is
deployed (exit code 2). With -o json or yaml, progress goes to standard error and the
application's summary to standard output.

Examples:
  gantry deploy examples/hello.yaml
  cat app.yaml | gantry deploy -
  id=$(gantry deploy app.yaml -o json | jq -r .id)`},

		{name: "apps", aliases: []string{"applications"}, args: "", run: runApps,
			summary: "list the applications",
			help: `Examples:
  gantry apps
  gantry apps -o yaml`},

		{name: "tree", args: "[APP]", run: runTree,
			summary: "show the tree of entities of every application, or of one",
			help: `Example:
  gantry tree hello`},

		{name: "app", aliases: []string{"application"}, args: "APP", run: runApp,
			summary: "show an application: status, locations, its tree",
			help: `APP is an application id or name.

Example:
  gantry app hello`},

		{name: "entity", aliases: []string{"ent"}, args: "APP [ENTITY]", run: runEntity,
			summary: "show an entity (or list every entity of an application)",
			help: `ENTITY is an entity id or name; the application itself is an entity too.

Examples:
  gantry entity hello          # every entity of hello
  gantry entity hello web`},

		{name: "sensor", aliases: []string{"sensors"}, args: "APP ENTITY [NAME]", run: runSensor,
			summary: "list the sensor values of an entity, or print one",
			help: `A single value is printed as it is when it is text, as JSON otherwise; nothing
for a sensor that has no value. An unknown sensor exits with 3.

Examples:
  gantry sensor hello web
  gantry sensor hello web main.uri
  curl "$(gantry sensor hello web main.uri)"`},

		{name: "config", args: "APP ENTITY [KEY [VALUE]]", run: runConfig,
			summary: "list the config of an entity, print one key, or set it",
			help: `VALUE is converted by the server to the key's type ("3", "true", "30s"); give
JSON for a map or a list ('{"a": 1}', '[1, 2]').

Examples:
  gantry config hello web
  gantry config hello web shop.region
  gantry config hello web shop.region eu-west`},

		{name: "effector", aliases: []string{"effectors"}, args: "APP ENTITY [NAME]", run: runEffectors,
			summary: "list the effectors of an entity and their parameters",
			help: `Example:
  gantry effector hello web`},

		{name: "invoke", args: "APP ENTITY EFFECTOR [-P NAME=VALUE]...", run: runInvoke,
			summary: "call an effector and print its result",
			help: `Parameters are converted to the types the effector declares. The result is printed
as it is when it is text, as JSON otherwise. A failing effector exits with 1 and
prints why.

Examples:
  gantry invoke elastic-web web resize -P desiredSize=3
  gantry invoke app box run-script -P script=@setup.sh --timeout 2m`},

		{name: "start", args: "APP [ENTITY]", run: lifecycle("start"),
			summary: "start an application, or one of its entities",
			help: `Calls the start effector and shows its task tree as it progresses; exits with 1
when it fails.

Example:
  gantry start hello web`},
		{name: "stop", args: "APP [ENTITY]", run: lifecycle("stop"),
			summary: "stop an application, or one of its entities",
			help: `Calls the stop effector and shows its task tree as it progresses.

Example:
  gantry stop hello worker`},
		{name: "restart", args: "APP [ENTITY]", run: lifecycle("restart"),
			summary: "restart an application, or one of its entities",
			help: `Calls the restart effector and shows its task tree as it progresses.

Examples:
  gantry restart hello
  gantry restart hello web -P restartChildren=true`},

		{name: "policy", aliases: []string{"policies"}, args: "APP ENTITY [list | show|start|stop|destroy POLICY]", run: runPolicy,
			summary: "list the policies of an entity; show, start, stop or destroy one",
			help: `POLICY is a policy id or name.

Examples:
  gantry policy elastic-web web
  gantry policy elastic-web web stop autoscaler
  gantry policy elastic-web web show autoscaler`},

		{name: "activity", aliases: []string{"activities", "act"}, args: "APP [ENTITY] [TASK]", run: runActivity,
			summary: "list the tasks of an entity; show one, its output, or follow it",
			help: `With APP (and ENTITY), lists the tasks of the application (or entity), newest
first. With a TASK id, shows the task and the tree of its steps; --stdout and
--stderr print its captured output; --follow prints the output of the task and of
its steps as it comes (tail -f style) until it ends, and exits with 1 if it failed.
--follow without a TASK follows the newest task of the entity.

Examples:
  gantry activity hello web
  gantry activity hello web 4mz0bq3k1e
  gantry activity hello web 4mz0bq3k1e --stderr
  gantry activity hello web --follow`},

		{name: "catalog", args: "list [KIND] | show [KIND] ID[:VERSION] | add FILE|-", run: runCatalog,
			summary: "list the catalog, show an item, add a BOM",
			help: `KIND is application, entity, policy, enricher or location (abbreviations work);
list shows the best version of each item unless --all-versions is given. add posts a
catalog BOM (brooklyn.catalog YAML); a BOM the server refuses is printed as
FILE:LINE:COLUMN: problem (exit code 2).

Examples:
  gantry catalog list
  gantry catalog list policy
  gantry catalog show basic-entity
  gantry catalog show entity gantry-greeter:1.0
  gantry catalog add examples/catalog-bom.yaml`},

		{name: "locations", aliases: []string{"location", "loc"}, args: "", run: runLocations,
			summary: "list the locations",
			help: `Example:
  gantry locations`},

		{name: "delete", args: "APP", run: runDelete,
			summary: "stop an application and remove it",
			help: `Stops the application, shows the task doing it, and forgets it.

Example:
  gantry delete hello`},

		{name: "events", args: "[--app APP] [--entity ENTITY] [--type TYPE]", run: runEvents,
			summary: "print live events: entities, sensors, tasks, policies",
			help: `Reads the server's event stream (GET /v1/events) until interrupted, or until
--max events. Reconnects by itself, resuming after the last event seen. With -o json,
one JSON object a line.

Examples:
  gantry events --app hello
  gantry events --app hello --entity web --type sensor.changed
  gantry events --type task.ended -o json | jq .task.currentStatus`},

		{name: "help", args: "[COMMAND]", run: runHelp,
			summary: "show help, of everything or of one command"},
	}
}

func topHelp() string {
	var b strings.Builder
	b.WriteString(`gantry: a blueprint-driven application management server, and its client

Server:
  gantry server [--bind ADDR] [--data DIR] ...   serve the REST API and the web UI (gantry server -h)
  gantry users add|token|list|revoke|remove ...  edit the users file of gantry server --users
  gantry version                                 print the version of this binary

Client commands:
`)
	for _, cmd := range commands {
		syn := cmd.name
		if cmd.args != "" {
			syn += " " + cmd.args
		}
		if len(syn) > 38 {
			syn = cmd.name + " ..."
		}
		fmt.Fprintf(&b, "  %-38s %s\n", syn, cmd.summary)
	}
	b.WriteString(`
Flags of every client command (before or after it):
  --server URL   the server (default: $GANTRY_URL, else the one of gantry login,
                 else ` + defaultServer + `)
  -o FORMAT      table (default), json or yaml

Credentials: $GANTRY_TOKEN (an API token), else $GANTRY_USER and $GANTRY_PASSWORD,
else those gantry login saved for the server. Applications and entities are named by
id or by name.

Exit codes:
  0    done
  1    the operation failed (a task ended in error, the server failed or cannot be reached)
  2    usage mistake, or input the server refused (a blueprint, a value)
  3    not found (application, entity, sensor, task, catalog item ...)
  4    not authorized (wrong credentials, or not allowed to)
  130  interrupted

Run 'gantry help COMMAND' or 'gantry COMMAND -h' for a command's flags and examples.
`)
	return b.String()
}

func runHelp(c *cli, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.stdout, topHelp())
		return nil
	}
	switch args[0] {
	case "server":
		runServer([]string{"-h"}) // prints its flags and exits
		return nil
	case "version":
		fmt.Fprintln(c.stdout, "Usage: gantry version\n\nPrints the version of this binary.")
		return nil
	case "users":
		runUsers([]string{"help"}, c.stdin, c.stdout, c.stderr) // users.go
		return nil
	}
	cmd := findCommand(args[0])
	if cmd == nil {
		return usageErrorf("help: unknown command %q", args[0])
	}
	if cmd.name == "help" {
		fmt.Fprint(c.stdout, topHelp())
		return nil
	}
	c.cmd = cmd
	return cmd.run(c, []string{"-h"})
}

// printCommandHelp prints the usage, help and flags of the running command.
func (c *cli) printCommandHelp(fs *flag.FlagSet) {
	cmd := c.cmd
	fmt.Fprintf(c.stdout, "Usage: gantry %s %s\n\n%s\n", cmd.name, cmd.args, cmd.summary)
	if cmd.help != "" {
		fmt.Fprintf(c.stdout, "\n%s\n", cmd.help)
	}
	if len(cmd.aliases) > 0 {
		fmt.Fprintf(c.stdout, "\nAlso: %s\n", strings.Join(cmd.aliases, ", "))
	}
	fmt.Fprintln(c.stdout, "\nFlags:")
	printFlags(c.stdout, fs)
}

// printFlags lists flags as PrintDefaults does, but with -x for one letter and
// --name for the others, as the help texts write them.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		name, usage := flag.UnquoteUsage(f)
		line := "  " + dash + f.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintf(w, "%s\n      %s", line, strings.ReplaceAll(usage, "\n", "\n      "))
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(w, " (default %q)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}
