// Package topologytest holds no code: its test shows that the topology is
// data: a component added to the spec alone (an exporter with one scrape
// job and one alert) is started, stopped and reloaded by up and down,
// shown by status, saved by backup and checked by doctor, with no edit
// in stack, backup or doctor. The exporter is this test binary itself,
// run again in exporter mode (TestMain), so the test needs nothing the
// other tests do not.
package topologytest
