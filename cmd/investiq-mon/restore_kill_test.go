package main

import (
	"strings"
	"testing"
)

// Issue 17: restore killed at each of its steps (the existing tests cover
// restore:swapping and restore:ready with signals and kills); the next
// up finishes or rolls back, says which, and Prometheus never starts on
// an empty data directory: its samples are there, old (marker) or new.
func TestRestoreKilledAtEachStepNextUp(t *testing.T) {
	s := newSigStack(t)
	for _, tc := range []struct {
		step, says string
		old        bool // the data from before the restore is live again
	}{
		{"restore:stopped", "rolled back a restore of ", true},
		{"restore:swapping", "rolled back a restore of ", true},
		{"restore:swapped", "", false},
	} {
		t.Run(tc.step, func(t *testing.T) {
			s.t = t
			s.setMarkers()
			p := s.restoreUntil(tc.step)
			p.cmd.Process.Kill()
			p.wait()
			out := s.up()
			if tc.says != "" && !strings.Contains(out, tc.says+s.archive) {
				t.Errorf("up after a restore killed at %s does not say what it did:\n%s", tc.step, out)
			}
			if !strings.Contains(out, "rolled back a restore of "+s.archive) && !strings.Contains(out, "finished a restore of "+s.archive) {
				t.Errorf("up says neither finished nor rolled back:\n%s", out)
			}
			m := s.markers()
			if tc.old && len(m) != 2 {
				t.Errorf("old data expected, markers in %v", m)
			}
			if len(m) != 0 && len(m) != 2 {
				t.Errorf("half old, half new: markers in %v", m)
			}
			if l := s.leftovers(); len(l) != 0 {
				t.Errorf("left behind after the next up: %v", l)
			}
			if err := s.ready(); err != nil {
				t.Fatalf("the servers are not running: %v", err)
			}
			if !s.hasSamples() {
				t.Errorf("Prometheus runs on an empty data directory after a restore killed at %s", tc.step)
			}
		})
	}
}
