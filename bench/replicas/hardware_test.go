package main

import (
	"strings"
	"testing"
)

func TestHardwareLine(t *testing.T) {
	cpuinfo := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n\nprocessor\t: 1\nmodel name\t: AMD EPYC\n"
	meminfo := "MemTotal:       24576000 kB\nMemFree:         1 kB\n"
	got, err := hardwareLine(2, strings.NewReader(cpuinfo), strings.NewReader(meminfo))
	if err != nil {
		t.Fatal(err)
	}
	if want := "2 CPUs (AMD EPYC), 23 GiB of memory"; got != want {
		t.Errorf("hardwareLine = %q, want %q", got, want)
	}
	if _, err := hardwareLine(2, strings.NewReader(cpuinfo), strings.NewReader("")); err == nil {
		t.Error("no MemTotal: want an error")
	}
}

func TestLoadFields(t *testing.T) {
	if got := loadFields("7.54 6.49 4.20 3/812 123456\n"); got != "7.54 6.49 4.20" {
		t.Errorf("loadFields = %q, want the three averages", got)
	}
}
