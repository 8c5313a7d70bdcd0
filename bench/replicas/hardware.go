package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// hardware is the bench's hardware line: the CPUs this process may run on
// (nproc's count), their model and the memory, from /proc.
func hardware() (string, error) {
	cpu, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "", err
	}
	defer cpu.Close()
	mem, err := os.Open("/proc/meminfo")
	if err != nil {
		return "", err
	}
	defer mem.Close()
	return hardwareLine(runtime.NumCPU(), cpu, mem)
}

// hardwareLine says it from nproc's count and the text of /proc/cpuinfo
// and /proc/meminfo.
func hardwareLine(nproc int, cpuinfo, meminfo io.Reader) (string, error) {
	model := field(cpuinfo, "model name")
	if model == "" {
		model = "unknown model"
	}
	kb, err := strconv.ParseInt(strings.TrimSuffix(field(meminfo, "MemTotal"), " kB"), 10, 64)
	if err != nil {
		return "", fmt.Errorf("MemTotal in /proc/meminfo: %w", err)
	}
	return fmt.Sprintf("%d CPUs (%s), %.0f GiB of memory", nproc, model, float64(kb)/(1<<20)), nil
}

// field is the value of the first "KEY : VALUE" line with the key.
func field(r io.Reader, key string) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadAverage is /proc/loadavg's 1, 5 and 15 minute figures: other work
// on the machine takes the same CPUs as the bench.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return loadFields(string(b))
}

// loadFields is the first three fields of /proc/loadavg's text.
func loadFields(s string) string {
	f := strings.Fields(s)
	return strings.Join(f[:min(3, len(f))], " ")
}
