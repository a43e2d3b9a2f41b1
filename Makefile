# Gantry: the two commands a newcomer needs are `make run` and `make test`.
GO      ?= go
BIN     := bin/gantry
BIND    ?= 127.0.0.1:8081
DATA    ?= .gantry

.PHONY: build run test images docker haproxy sshd etcd chromium engines engines-down vet ui screenshot bench clean

build:
	$(GO) build -o $(BIN) ./cmd/gantry

# Run the server with the embedded store under ./.gantry. It deploys nothing by itself;
# the `docker` location is there when a Docker Engine answers (`make images` starts one).
run: build
	./$(BIN) server --bind $(BIND) --data $(DATA)

# Make sure a Docker Engine answers (as root on Debian: installs docker.io and starts
# dockerd when none does) and build the local images the examples and tests use.
docker:
	./scripts/ensure-docker.sh

# Make sure OpenSSH's sshd is installed (as root on Debian: installs openssh-server);
# the byon tests start their own sshd processes on loopback ports.
sshd:
	./scripts/ensure-sshd.sh

# Make sure Debian's haproxy is installed (as root on Debian: installs it and stops the
# service it starts); gantry/haproxy is built from it.
haproxy:
	./scripts/ensure-haproxy.sh

# Make sure Debian's etcd server is installed (as root on Debian: installs etcd-server
# without starting its service); the calico provider's tests start their own private
# etcd on loopback ports.
etcd:
	./scripts/ensure-etcd.sh

# Make sure Debian's chromium is installed (as root on Debian: installs it); the web UI's
# browser test (web/browser_test.go) drives it headless through chromedp.
chromium:
	./scripts/ensure-chromium.sh

# Rebuild the web UI's committed assets (web/dist) from its sources (web/ui) with npm.
# Not part of `make test`: building Gantry needs only the committed assets.
ui:
	cd web/ui && npm ci && npm run build

# Take the app inspector screenshot of the README (docs/app-inspector.png) with the
# browser test: the example process deployed through the editor, restarted.
screenshot: chromium
	$(GO) test -count=1 -run TestBrowser ./web -args -screenshot=$(CURDIR)/docs/app-inspector.png

images: docker haproxy
	./scripts/build-images.sh

# Start N (default 3, at most 10) extra Docker Engines on this machine next to the main
# one, each with its own socket, data root, bridge and address pool, for trying a Docker
# cloud on one box and for the tests that need several engines (as root; running ones are
# reused). Prints their endpoints, one a line, and nothing else on standard output; engine
# 1 is over TCP with TLS: `tcp://127.0.0.1:23760 tls.ca=FILE tls.cert=FILE tls.key=FILE`.
# `make engines-down` stops them and removes their containers, networks and data.
N ?= 3
engines:
	@$(MAKE) -s --no-print-directory images >&2
	@./scripts/engines.sh up $(N)

engines-down:
	@./scripts/engines.sh down

vet:
	$(GO) vet ./...

# Every test, against the real Docker Engine. With CI=true a test whose engine is
# missing fails instead of skipping.
test: images sshd etcd chromium vet
	$(GO) test -count=1 -timeout 20m ./...

bench: images
	./bench/run.sh

clean:
	rm -rf bin
