package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/stack"
)

func TestSparkline(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []float64
		want string
	}{
		{"no data says so", nil, "no data"},
		{"zero is the floor, not mid-height", []float64{0, 0, 0}, "▁▁▁"},
		{"the maximum is the top block", []float64{0, 1, 2}, "▁▅█"},
		{"a flat non-zero rate is full height", []float64{3, 3}, "██"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sparkline(tc.in); got != tc.want {
				t.Errorf("sparkline(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestStatusTableIsPlainOffTerminal(t *testing.T) {
	r := &stack.Report{
		Backend:     stack.Local,
		Components:  []stack.ComponentInfo{{Name: "prometheus", Up: true, Version: "3.16.0", URL: "http://127.0.0.1:9090"}, {Name: "alertmanager", URL: "http://127.0.0.1:9093", Error: "connection refused"}},
		Targets:     []stack.TargetInfo{{Job: "investiq-api", Instance: "127.0.0.1:3000", Health: "down", LastError: "connection refused"}},
		Alerts:      []stack.AlertInfo{{Name: "ServiceDown", State: "pending", Labels: map[string]string{"severity": "critical"}, ActiveAt: time.Now()}},
		Health:      stack.HealthInfo{Dependencies: map[string]bool{"redis": false, "database": true}, Trading: "halted"},
		RequestRate: []float64{1, 2, 3}, Window: 15 * time.Minute,
	}
	var plain bytes.Buffer
	writeStatus(&plain, false, r, []string{"database", "redis", "polygon"})
	out := plain.String()
	if strings.Contains(out, "\x1b[") {
		t.Errorf("plain output has escape codes:\n%s", out)
	}
	// On a terminal the states are coloured, also in a CI job's pty
	// (termenv alone turns colour off whenever CI is set).
	t.Setenv("CI", "true")
	t.Setenv("TERM", "xterm-256color")
	var coloured bytes.Buffer
	writeStatus(&coloured, true, r, []string{"database", "redis", "polygon"})
	if !strings.Contains(coloured.String(), "\x1b[") {
		t.Errorf("terminal output has no colour:\n%q", coloured.String())
	}
	for _, want := range []string{"3.16.0", "connection refused", "ServiceDown", "pending", "halted", "unknown", "▃▆█", "no data"} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}
}
