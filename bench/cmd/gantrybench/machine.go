package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	dockerclient "github.com/docker/docker/client"
)

type machine struct {
	NProc                 int    `json:"nproc"`
	CPU                   string `json:"cpu"`
	MemTotal              int64  `json:"mem_total_bytes"`
	Kernel                string `json:"kernel"`
	Go                    string `json:"go"`
	Docker                string `json:"docker"`
	DockerAPI             string `json:"docker_api"`
	StorageDriver         string `json:"storage_driver"`
	Compose               string `json:"compose"`
	Gantry                string `json:"gantry"`
	LoadAvg               string `json:"loadavg_at_start"`
	LoadAvgEnd            string `json:"loadavg_at_end"`
	OtherContainersBefore int    `json:"other_containers_before"`
	OtherContainersAfter  int    `json:"other_containers_after"`
}

func describeMachine(ctx context.Context, docker *dockerclient.Client, cfg *config) machine {
	m := machine{NProc: runtime.NumCPU(), Go: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if fs := strings.Fields(sc.Text()); len(fs) >= 2 && fs[0] == "MemTotal:" {
				kb, _ := strconv.ParseInt(fs[1], 10, 64)
				m.MemTotal = kb << 10
			}
		}
		f.Close()
	}
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		m.Kernel = utsString(u.Release[:])
	}
	m.LoadAvg = loadAvg()
	if v, err := docker.ServerVersion(ctx); err == nil {
		m.Docker = v.Version
		m.DockerAPI = v.APIVersion
	}
	if info, err := docker.Info(ctx); err == nil {
		m.StorageDriver = info.Driver
	}
	if out, err := exec.Command(cfg.compose, "version", "--short").Output(); err == nil {
		m.Compose = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command(cfg.gantryBin, "version").Output(); err == nil {
		m.Gantry = strings.TrimSpace(string(out))
	}
	// Read-only: which commit the binary was built from, and whether the tree had changes.
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.Gantry += ", commit " + strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
			m.Gantry += " with uncommitted changes"
		}
	}
	m.OtherContainersBefore = otherContainers(ctx, docker)
	return m
}

func utsString(b []int8) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		out = append(out, byte(c))
	}
	return string(out)
}

// otherContainers counts the running containers that are not the benchmark's: other
// work on the same engine (tests run by others) makes the numbers noisier.
func otherContainers(ctx context.Context, docker *dockerclient.Client) int {
	list, err := docker.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs()})
	if err != nil {
		return -1
	}
	n := 0
	for _, c := range list {
		if _, ours := c.Labels[labelBench]; !ours {
			n++
		}
	}
	return n
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
