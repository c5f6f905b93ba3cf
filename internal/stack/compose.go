package stack

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/investiq/investiq-mon/internal/files"
	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/testhook"
	"github.com/investiq/investiq-mon/spec"
)

func dockerBin() (string, error) {
	p, err := exec.LookPath("docker")
	if err != nil {
		return "", fmt.Errorf("docker not found on PATH: install Docker with the compose plugin, or run the stack without it: investiq-mon up --backend local")
	}
	return p, nil
}

// composeArgs are the arguments every compose call starts with. The
// profile is on every call: without it `down` and `ps` do not see the
// monitoring services and leave them running.
func composeArgs(file string, args ...string) []string {
	return append([]string{"compose", "-f", file, "--profile", render.ComposeProfile}, args...)
}

// engineAnswers runs `docker info`; only the client is installed on many
// machines, and compose's own error for that is long and confusing.
func engineAnswers(ctx context.Context, docker string) error {
	args := []string{"info", "--format", "{{.ServerVersion}}"}
	cmd, dctx, cancel := dockerCommand(ctx, DockerQueryTimeout, docker, args...)
	defer cancel()
	out, err := cmd.CombinedOutput()
	if err != nil {
		if terr := DockerTimedOut(dctx, err, args); terr != err {
			return fmt.Errorf("%w (%w)", ErrNoEngine, terr)
		}
		return fmt.Errorf("%w (docker info: %s): start Docker, or run the stack without it: investiq-mon up --backend local", ErrNoEngine, firstLine(out, err))
	}
	return nil
}

func firstLine(out []byte, err error) string {
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if line == "" {
		return err.Error()
	}
	return line
}

// ensureGenerated writes the stack's files into Dir when they are missing
// or differ from the spec, as `generate` would, and .env when missing.
// Before anything is written the new files load in the servers' own
// parsers, as the local backend checks them (validateFiles): a file that
// fails is not applied, and neither is any other. It returns the
// components (Prometheus, Alertmanager, Grafana) whose files it wrote.
func ensureGenerated(ctx context.Context, o Options, s *spec.Spec, beforeWrite func(components map[string]bool) error) (map[string]bool, error) {
	renderFiles := render.Render
	if o.renderFiles != nil {
		renderFiles = o.renderFiles
	}
	rendered, err := renderFiles(s)
	if err != nil {
		return nil, err
	}
	drifts, err := files.Check(o.Dir, rendered)
	if err != nil {
		return nil, err
	}
	write := files.Changed(rendered, drifts)
	if len(write) == 0 {
		return nil, nil
	}
	// All of them, not only the ones that differ: prometheus.yml names
	// the rule files and must find them beside it.
	if err := validateFiles(ctx, o.Layout, o.Out, rendered); err != nil {
		return nil, err
	}
	changed := map[string]bool{}
	for _, f := range write {
		if f.Component != "" {
			changed[f.Component] = true
		}
	}
	if err := beforeWrite(changed); err != nil {
		return nil, err
	}
	if err := files.Write(o.Dir, write); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Out, "generated %d files in %s from the spec\n", len(write), o.Dir)
	return changed, nil
}

// runningServices lists the services of the compose stack that run now,
// by `docker compose ps`. A stack compose does not know yet has none.
func runningServices(ctx context.Context, file string) (map[string]bool, error) {
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	cs, err := composePS(ctx, file)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, c := range cs {
		if c.State == "running" {
			out[c.Service] = true
		}
	}
	return out, nil
}

func upCompose(ctx context.Context, o Options) (State, error) {
	s, err := o.LoadSpec(o.Settings)
	if err != nil {
		return State{}, err
	}
	docker, err := dockerBin()
	if err != nil {
		return State{}, err
	}
	if err := engineAnswers(ctx, docker); err != nil {
		return State{}, err
	}
	if _, err := composeVersion(ctx, docker); err != nil {
		return State{}, err
	}
	file := filepath.Join(o.Dir, render.ComposeFile)
	// What runs before this `up`: docker compose up -d recreates a
	// container whose service changed, but one that keeps running never
	// rereads its bind-mounted files by itself.
	before, psErr := runningServices(ctx, file)
	services, skipped, err := servicesToStart(ctx, docker, s, o.Pull)
	if err != nil {
		return State{}, err
	}
	if err := testhook.Pause(ctx, StepUpValidated); err != nil {
		return State{}, err
	}
	// An up killed after writing new files and before the running
	// servers reloaded them left their names in the state: the files now
	// match the spec, so only that record says the servers still run the
	// old ones (composepending.go).
	// A .env that ensureEnv will refuse stops up before a file is written.
	if err := secrets.CheckExisting(o.Dir, s); err != nil {
		return State{}, err
	}
	prev, prevErr := o.Layout.LoadState()
	changed, err := ensureGenerated(ctx, o, s, func(comps map[string]bool) error { return markReload(o.Layout, prev, prevErr, comps) })
	if err != nil {
		return State{}, err
	}
	changed = reloadLeft(o.Out, prev, prevErr, changed)
	env, err := ensureEnv(o, s)
	if err != nil {
		return State{}, err
	}
	if err := testhook.Pause(ctx, StepUpConfigWritten); err != nil {
		return State{}, err
	}
	if err := checkGrafanaPassword(env, o); err != nil {
		return State{}, err
	}
	if skipped != "" {
		fmt.Fprintln(o.Out, skipped)
	}
	// --wait blocks until every healthcheck passes: promtool check
	// healthy, amtool config show and Grafana's /api/health, each with
	// the stack's credentials. That is the readiness wait of this backend.
	upArgs := func(extra ...string) []string {
		a := []string{"up", "-d", "--wait", "--wait-timeout", waitSeconds(o.Timeout)}
		if o.Pull != "" {
			a = append(a, "--pull", o.Pull)
		}
		return composeArgs(file, append(a, extra...)...)
	}
	var args []string
	if skipped == "" {
		args = upArgs()
	} else {
		args = upArgs(services...)
	}
	// The project's volumes before: a failed first up removes those it
	// created, and leaves nothing behind.
	volsBefore, volErr := projectVolumes(ctx, docker, s.Project)
	fmt.Fprintf(o.Out, "docker %s\n", strings.Join(args, " "))
	upCtx, cancel := context.WithTimeout(ctx, o.Timeout+30*time.Second)
	defer cancel()
	out, err := composeUp(upCtx, docker, args...)
	if err != nil {
		if waitTimedOut(upCtx, out) {
			err = fmt.Errorf("%w after %s (docker compose up --wait-timeout): %v:\n%s", ErrTimeout, o.Timeout, err, strings.TrimSpace(string(out)))
		} else {
			err = fmt.Errorf("docker compose up failed (%v):\n%s", err, strings.TrimSpace(string(out)))
		}
		var created map[string]bool
		if volErr == nil {
			created = volsBefore
		}
		rmErr := removeStarted(ctx, o, docker, file, s.Project, services, before, psErr, created)
		if portTaken(out) && rmErr == nil {
			// Our containers are gone: what still holds a port is
			// someone else, and checkPort says who.
			var fresh []string
			for _, svc := range services {
				if !before[svc] {
					fresh = append(fresh, svc)
				}
			}
			if perr := busyPorts(s, fresh); perr != nil {
				return State{}, fmt.Errorf("%w\nnothing of this up was left running", perr)
			}
		}
		return State{}, errors.Join(err, rmErr)
	}
	// Compose leaves secrets and inline configs out of the hash that
	// decides on a recreate: a container keeps the password or webhook
	// URL it was created with until it is recreated.
	if p, err := loadComposeProject(ctx, file); err != nil {
		fmt.Fprintf(o.Out, "could not compare the running containers' secrets with .env: %v\n", err)
	} else if stale, notes := staleSecrets(ctx, docker, p, ranBefore(services, before)); len(stale) > 0 || len(notes) > 0 {
		for _, n := range notes {
			fmt.Fprintln(o.Out, n)
		}
		if len(stale) > 0 {
			args := upArgs(append([]string{"--force-recreate", "--no-deps"}, stale...)...)
			fmt.Fprintf(o.Out, "recreating %s: secrets in .env changed since it was created\ndocker %s\n", strings.Join(stale, ", "), strings.Join(args, " "))
			if out, err := composeUp(upCtx, docker, args...); err != nil {
				if waitTimedOut(upCtx, out) {
					return State{}, fmt.Errorf("%w after %s (docker compose up --force-recreate --wait-timeout): %v:\n%s", ErrTimeout, o.Timeout, err, strings.TrimSpace(string(out)))
				}
				return State{}, fmt.Errorf("docker compose up --force-recreate failed (%v):\n%s", err, strings.TrimSpace(string(out)))
			}
		}
	}
	addr := loopback(s.PublishAddress)
	st := State{Backend: Compose, ComposeFile: file}
	var urls []string
	for _, c := range s.Components() {
		if !slices.Contains(services, c.Name) {
			urls = append(urls, c.Title+" not started")
			continue
		}
		u := fmt.Sprintf("http://%s:%d", addr, c.HostPort)
		st.recordURL(c.Name, u)
		urls = append(urls, c.Title+" "+u)
	}
	if err := testhook.Pause(ctx, StepUpReady); err != nil {
		return State{}, err
	}
	// Recorded until the servers that ran before have reloaded the new
	// files: a kill or a failed reload leaves them for the next up.
	st.Reload = reloadable(changed)
	if err := o.Layout.SaveState(st); err != nil {
		return State{}, err
	}
	fmt.Fprintf(o.Out, "stack is up: %s\n", strings.Join(urls, ", "))
	if err := reloadCompose(ctx, o, s, file, changed, before, psErr); err != nil {
		return st, err
	}
	if len(st.Reload) > 0 {
		st.Reload = nil
		if err := o.Layout.SaveState(st); err != nil {
			return st, err
		}
	}
	return st, nil
}

// ranBefore are the services that already ran before this up: a container
// compose creates now gets the current secrets anyway.
func ranBefore(services []string, before map[string]bool) []string {
	var out []string
	for _, svc := range services {
		if before[svc] {
			out = append(out, svc)
		}
	}
	return out
}

// removeStarted takes away what a failed `up` created, so a failure
// leaves the engine as it found it: when nothing ran before, compose down
// and the volumes this up created (volsBefore lists those that existed;
// nil means unknown, then every volume stays); else only the containers of
// the services that did not run. When ps failed before the up, nothing is
// removed.
func removeStarted(ctx context.Context, o Options, docker, file, project string, services []string, before map[string]bool, psErr error, volsBefore map[string]bool) error {
	if psErr != nil {
		return nil
	}
	var started []string
	for _, svc := range services {
		if !before[svc] {
			started = append(started, svc)
		}
	}
	if len(started) == 0 {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	run := func(args ...string) error {
		cmd, dctx, cancel := dockerCommand(ctx, DockerStopTimeout, docker, args...)
		defer cancel()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("could not remove what this up started (docker %s: %w): %s", strings.Join(args, " "), DockerTimedOut(dctx, err, args), firstLine(out, err))
		}
		return nil
	}
	if len(before) > 0 {
		if err := run(composeArgs(file, append([]string{"rm", "--stop", "--force"}, started...)...)...); err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "removed the containers this up started (%s)\n", strings.Join(started, ", "))
		return nil
	}
	if err := run(composeArgs(file, "down")...); err != nil {
		return err
	}
	removed := "containers and network"
	if volsBefore != nil {
		now, err := projectVolumes(ctx, docker, project)
		if err != nil {
			return err
		}
		for v := range now {
			if !volsBefore[v] {
				if err := run("volume", "rm", v); err != nil {
					return err
				}
				removed = "containers, network and new volumes"
			}
		}
	}
	fmt.Fprintf(o.Out, "removed what this up created (%s)\n", removed)
	return nil
}

// reloadCompose asks the servers whose files changed, and that ran before
// this `up`, to reread them (POST /-/reload): the stack stays up and
// keeps its data. A failure leaves the new files in place and says how
// to load them.
func reloadCompose(ctx context.Context, o Options, s *spec.Spec, file string, changed, before map[string]bool, psErr error) error {
	var comps []string
	reloadPath := map[string]string{}
	for _, c := range s.Components() {
		switch {
		case !changed[c.Name]:
		case c.ReloadPath != "" && (before[c.Name] || psErr != nil):
			comps = append(comps, c.Name)
			reloadPath[c.Name] = c.ReloadPath
		case c.ReloadPath == "" && c.RereadNote != "" && before[c.Name]:
			fmt.Fprintln(o.Out, c.RereadNote)
		case c.ReloadPath == "" && before[c.Name]:
			fmt.Fprintf(o.Out, "%s's files changed and it cannot reload them: load them with: docker %s\n", c.Name,
				strings.Join(composeArgs(file, "restart", c.Name), " "))
		}
	}
	if len(comps) == 0 {
		return nil
	}
	if psErr != nil {
		// Unknown whether they ran before: a reload of a server that
		// just started with the new files is harmless.
		fmt.Fprintf(o.Out, "could not tell what ran before (%v): reloading %s anyway\n", psErr, strings.Join(comps, ", "))
	}
	ep, err := LoadEndpoints(s, o.Dir, o.Layout)
	if err != nil {
		return err
	}
	client := HTTPClient(ep.User, ep.Password, 10*time.Second)
	var errs []error
	for _, c := range comps {
		if err := reload(ctx, client, ep.URL(c)+reloadPath[c]); err != nil {
			errs = append(errs, fmt.Errorf("%s did not reload its new files (%w); load them with: docker %s", c, err,
				strings.Join(composeArgs(file, "restart", c), " ")))
			continue
		}
		fmt.Fprintf(o.Out, "reloaded %s: its files changed\n", c)
	}
	return errors.Join(errs...)
}

func downCompose(ctx context.Context, o DownOptions, st State) error {
	docker, err := dockerBin()
	if err != nil {
		return err
	}
	if _, err := composeVersion(ctx, docker); err != nil {
		return err
	}
	file := st.ComposeFile
	if file == "" {
		file = filepath.Join(o.Dir, render.ComposeFile)
	}
	args := composeArgs(file, "down")
	if o.Volumes {
		args = append(args, "--volumes")
	}
	fmt.Fprintf(o.Out, "docker %s\n", strings.Join(args, " "))
	cmd, dctx, cancel := dockerCommand(ctx, DockerStopTimeout, docker, args...)
	defer cancel()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker compose down failed (%w):\n%s", DockerTimedOut(dctx, err, args), strings.TrimSpace(string(out)))
	}
	// The containers are gone: forget them, so a later `up --backend
	// local` with this state directory is not refused.
	if err := os.Remove(o.Layout.StateFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if o.Volumes {
		fmt.Fprintln(o.Out, "removed the stack's volumes")
	} else {
		fmt.Fprintln(o.Out, "volumes kept (remove them with down --volumes)")
	}
	return nil
}

// composeService runs a compose subcommand on one service of the stack.
func composeService(ctx context.Context, file string, args ...string) error {
	if file == "" {
		return fmt.Errorf("the state file names no compose file: run `investiq-mon up` first")
	}
	docker, err := dockerBin()
	if err != nil {
		return err
	}
	full := composeArgs(file, args...)
	cmd, dctx, cancel := dockerCommand(ctx, DockerStopTimeout, docker, full...)
	defer cancel()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker compose %s failed (%w):\n%s", args[0], DockerTimedOut(dctx, err, full), strings.TrimSpace(string(out)))
	}
	return nil
}

// Container is one line of `docker compose ps --format json`.
type Container struct {
	Service string `json:"Service"`
	Name    string `json:"Name"`
	State   string `json:"State"`
	Health  string `json:"Health"`
	Status  string `json:"Status"`
}

// composePS lists the stack's containers. Compose 2.21 and later print
// one JSON object per line; earlier ones one array.
func composePS(ctx context.Context, file string) ([]Container, error) {
	docker, err := dockerBin()
	if err != nil {
		return nil, err
	}
	args := composeArgs(file, "ps", "--format", "json")
	cmd, dctx, cancel := dockerCommand(ctx, DockerQueryTimeout, docker, args...)
	defer cancel()
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		if terr := DockerTimedOut(dctx, err, args); terr != err {
			return nil, terr
		}
		return nil, fmt.Errorf("docker compose ps: %s", firstLine(stderr, err))
	}
	out = bytes.TrimSpace(out)
	var cs []Container
	if bytes.HasPrefix(out, []byte("[")) {
		if err := json.Unmarshal(out, &cs); err != nil {
			return nil, fmt.Errorf("docker compose ps: %w", err)
		}
		return cs, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var c Container
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("docker compose ps: %w", err)
		}
		cs = append(cs, c)
	}
	return cs, nil
}
