package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"gopkg.in/yaml.v3"

	"github.com/investiq/investiq-mon/internal/files"
	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/testhook"
	"github.com/investiq/investiq-mon/internal/toolbin"
	"github.com/investiq/investiq-mon/spec"
)

// Errors callers branch on (the CLI maps ErrTimeout to its own exit code).
var (
	ErrTimeout      = errors.New("timed out waiting for the stack to be ready")
	ErrInsecure     = errors.New(spec.EnvGrafanaPassword + " is admin")
	ErrNoEngine     = errors.New("no Docker engine answers")
	ErrUnknownState = errors.New("unknown backend")
)

// Options say how to bring the stack up.
type Options struct {
	// Backend is Compose or Local.
	Backend string
	// Settings and LoadSpec build the spec: LoadSpec is the loader every
	// other command uses (the CLI's Factory.LoadSpecWith), which checks
	// it; the local backend puts every address on 127.0.0.1 first. With
	// LoadSpec nil, NewSpec (spec.InvestIQ when nil) is built and checked.
	// Tests shorten the intervals here, never by changing a rule.
	Settings spec.Settings
	LoadSpec func(spec.Settings) (*spec.Spec, error)
	NewSpec  func(spec.Settings) *spec.Spec
	// Dir is the generated stack: docker-compose.yml and .env.
	Dir string
	// Layout is the local backend's state directory; the compose backend
	// keeps only its state file there.
	Layout Layout
	// Timeout bounds the wait for every component to be ready.
	Timeout time.Duration
	// InsecureDev allows a Grafana admin password of "admin".
	InsecureDev bool
	// Ports of the local servers; zero means the defaults.
	PrometheusPort, AlertmanagerPort, GrafanaPort int
	// Pull is the compose backend's image pull policy (always, missing or
	// never; empty is compose's default, missing). With never, Grafana is
	// skipped when its image is not on the engine.
	Pull string
	// Out receives what a person reads: progress and one line per action.
	Out io.Writer
	// Terminal draws a progress bar instead of plain lines.
	Terminal bool

	// renderFiles replaces localFiles in tests, to hand up a broken file.
	renderFiles func(*spec.Spec) ([]render.File, error)
}

func (o *Options) defaults() {
	if o.NewSpec == nil {
		o.NewSpec = spec.InvestIQ
	}
	if o.LoadSpec == nil {
		newSpec := o.NewSpec
		o.LoadSpec = func(set spec.Settings) (*spec.Spec, error) {
			s := newSpec(set)
			return s, s.Check()
		}
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.PrometheusPort == 0 {
		o.PrometheusPort = DefaultPrometheusPort
	}
	if o.AlertmanagerPort == 0 {
		o.AlertmanagerPort = DefaultAlertmanager
	}
	if o.GrafanaPort == 0 {
		o.GrafanaPort = DefaultGrafanaPort
	}
	if o.Layout.Root == "" {
		o.Layout.Root = DefaultStateDir
	}
	if abs, err := filepath.Abs(o.Layout.Root); err == nil {
		o.Layout.Root = abs
	}
}

// Up starts the stack, or brings a running one up to date.
func Up(ctx context.Context, o Options) (State, error) {
	o.defaults()
	b, err := NewBackend(o.Backend, nil, o.Dir, o.Layout, o.Timeout)
	if err != nil {
		return State{}, err
	}
	return b.Up(ctx, o)
}

// checkGrafanaPassword enforces issue 8: no admin/admin unless asked.
func checkGrafanaPassword(env *secrets.Env, o Options) error {
	if env.Get(spec.EnvGrafanaPassword) != "admin" {
		return nil
	}
	if !o.InsecureDev {
		return fmt.Errorf("%w in %s: set a strong one (or delete the line and rerun `investiq-mon generate`), or pass --insecure-dev for a throwaway local stack", ErrInsecure, env.Path)
	}
	fmt.Fprintln(o.Out, "warning: --insecure-dev: Grafana's admin password is admin; never expose this stack")
	return nil
}

// ensureEnv makes sure Dir/.env exists, as generate would create it.
func ensureEnv(o Options, s *spec.Spec) (*secrets.Env, error) {
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	res, err := secrets.Ensure(o.Dir, s)
	if err != nil {
		return nil, err
	}
	if note := res.CreatedNote(); note != "" {
		fmt.Fprintln(o.Out, note)
	}
	return secrets.Load(o.Dir)
}

// localProcesses is how each local component runs (its Program in the
// spec's topology). Every secret reaches the servers as a file name, so
// `ps` shows nothing worth stealing. An optional component whose program
// is missing is left out with a note; a required one is an error.
func localProcesses(s *spec.Spec, l Layout) (map[string]Process, []string, error) {
	procs := map[string]Process{}
	var notes []string
	for _, c := range s.Components() {
		if c.Program.Command == nil {
			continue
		}
		bin, err := findProgram(c.Program.Binary)
		if err != nil {
			if c.Optional {
				notes = append(notes, fmt.Sprintf("%s skipped: no `%s` binary on PATH (the stack runs without it)", c.Title, c.Program.Binary))
				continue
			}
			return nil, nil, err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(c.HostPort))
		args, env := c.Program.Command(s, spec.Run{
			Binary: bin, ConfigDir: filepath.Join(l.ConfigDir(), c.Name),
			DataDir: l.Data(c.Name), LogDir: l.LogDir(),
			Host: "127.0.0.1", Port: c.HostPort, Addr: addr,
		})
		procs[c.Name] = Process{Path: bin, Args: args, Env: env, Addr: addr, Ready: "http://" + addr + c.ReadyPath, Auth: c.Auth}
	}
	return procs, notes, nil
}

// findProgram finds a component's binary: an absolute path as it is, a
// name as toolbin finds it (the pinned builds first, then PATH).
func findProgram(name string) (string, error) {
	if filepath.IsAbs(name) {
		if _, err := os.Stat(name); err != nil {
			return "", err
		}
		return name, nil
	}
	return toolbin.Find(name)
}

// portFlag is the option of up that moves component's port.
func portFlag(s *spec.Spec, component string) string {
	if c, ok := s.Component(component); ok && c.Program.PortFlag != "" {
		return c.Program.PortFlag
	}
	return "the HostPort of component " + component + " in the spec"
}

// localPlan is what a local `up` will do, decided before anything is
// written: which components run, which files changed, what must
// restart, start or reload.
type localPlan struct {
	s     *spec.Spec
	env   *secrets.Env
	procs map[string]Process
	notes []string
	// files are the rendered files of the config directory; next their
	// hashes, as the state file will record them.
	files []render.File
	next  map[string]string
	prev  State
	// running are the components that run now, by pid; restart those
	// whose command line changed; changed those whose files changed
	// (only running ones, when any run); missing those to start.
	running map[string]int
	restart map[string]bool
	changed map[string]bool
	missing []string
}

func (p localPlan) nothingToDo() bool {
	return len(p.missing) == 0 && len(p.changed) == 0 && len(p.restart) == 0
}

func upLocal(ctx context.Context, o Options) (State, error) {
	p, err := planLocal(ctx, o)
	if err != nil {
		return State{}, err
	}
	if err := testhook.Pause(ctx, StepUpPlanned); err != nil {
		return State{}, err
	}
	if p.nothingToDo() {
		// Secret files may still have changed (a new webhook URL in .env);
		// the servers read them at use, so rewriting them is enough.
		if err := p.env.WriteFiles(p.s, o.Layout.SecretsDir(), o.Layout.WebConfig()); err != nil {
			return State{}, err
		}
		fmt.Fprintf(o.Out, "stack is running and its files are unchanged: nothing to do (%s)\n", strings.Join(sortedKeys(p.running), ", "))
		return p.prev, nil
	}
	return applyLocal(ctx, o, p)
}

// planLocal decides what a local up does. It writes nothing but .env
// when missing, as generate would; the one thing it stops is what an
// earlier up, killed after starting its servers, left running unrecorded
// (see stopPending), since this up starts those again.
func planLocal(ctx context.Context, o Options) (localPlan, error) {
	l := o.Layout
	var p localPlan
	s, err := LocalSpec(o.LoadSpec, o.Settings, l, o.PrometheusPort, o.AlertmanagerPort, o.GrafanaPort)
	if err != nil {
		return p, err
	}
	p.s = s
	// Binaries first: a machine without them should learn that before
	// anything is written.
	p.procs, p.notes, err = localProcesses(s, l)
	if err != nil {
		return p, err
	}
	p.env, err = ensureEnv(o, s)
	if err != nil {
		return p, err
	}
	if err := checkGrafanaPassword(p.env, o); err != nil {
		return p, err
	}
	renderFiles := localFiles
	if o.renderFiles != nil {
		renderFiles = o.renderFiles
	}
	p.files, err = renderFiles(s)
	if err != nil {
		return p, err
	}
	p.prev, err = l.LoadState()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return p, err
	}
	if p.prev.Backend == Compose {
		return p, fmt.Errorf("%s records a compose stack: run `investiq-mon down` first, or use another --state", l.StateFile())
	}

	p.running = map[string]int{}
	for _, c := range s.ComponentNames() {
		if pid, ok := l.running(p.prev, c); ok {
			p.running[c] = pid
		}
	}
	if err := l.stopPending(ctx, o.Out, p.prev, p.running); err != nil {
		return p, err
	}
	// A running component cannot move: its address is part of the files
	// the others load.
	for c := range p.running {
		if pr, ok := p.procs[c]; ok && p.prev.Processes[c].Addr != pr.Addr {
			return p, fmt.Errorf("%s is running on %s (pid %d): run `investiq-mon down` before moving it to %s", c, p.prev.Processes[c].Addr, p.running[c], pr.Addr)
		}
	}

	// A running component whose command line (or environment) differs
	// from what it was started with, e.g. `up --retention 30d`, restarts:
	// flags are read only at start. Its data directory stays.
	p.restart = map[string]bool{}
	for c := range p.running {
		if pr, ok := p.procs[c]; ok && !sameCommand(p.prev.Processes[c], pr) {
			p.restart[c] = true
		}
	}

	p.next = hashes(p.files)
	p.changed = changedComponents(p.prev.Hashes, p.files)
	if len(p.running) > 0 {
		for c := range p.changed {
			if _, ok := p.running[c]; !ok {
				delete(p.changed, c) // it starts with the new files anyway
			}
		}
	}
	// A running component whose files changed and that can neither
	// reload nor reread them restarts to load them.
	for c := range p.changed {
		if comp, ok := s.Component(c); ok && comp.ReloadPath == "" && comp.RereadNote == "" {
			if _, ok := p.running[c]; ok {
				p.restart[c] = true
			}
		}
	}
	for _, c := range s.ComponentNames() {
		if _, ok := p.procs[c]; ok {
			if _, ok := p.running[c]; !ok {
				p.missing = append(p.missing, c)
			}
		}
	}
	return p, nil
}

// applyLocal carries out a plan, step by step (the Step* constants). A
// step that fails undoes the ones before it: the config directory is put
// back, what this run started is stopped and what it restarted runs again
// as before, so a failed up changes nothing.
func applyLocal(ctx context.Context, o Options, p localPlan) (State, error) {
	l, s, procs, env := o.Layout, p.s, p.procs, p.env
	prev, running, restart, changed, missing := p.prev, p.running, p.restart, p.changed, p.missing

	// Nothing is written before every file has loaded in the servers'
	// own parsers: a bad file must never replace a good running one.
	if err := validateFiles(ctx, l, o.Out, p.files); err != nil {
		return State{}, err
	}
	var busy []error
	for _, c := range missing {
		if err := checkPort(procs[c].Addr, portFlag(s, c)); err != nil {
			busy = append(busy, fmt.Errorf("%s: %w", c, err))
		}
	}
	if err := errors.Join(busy...); err != nil {
		return State{}, err
	}
	if err := testhook.Pause(ctx, StepUpValidated); err != nil {
		return State{}, err
	}
	dirs := []string{l.Root, l.LogDir()}
	for _, c := range s.ComponentNames() {
		dirs = append(dirs, l.Data(c))
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return State{}, err
		}
	}
	if err := env.WriteFiles(s, l.SecretsDir(), l.WebConfig()); err != nil {
		return State{}, err
	}
	// Keep what is on disk now, so that a failed reload or start puts
	// the config directory back as it was: a failed run changes nothing.
	undo, err := snapshotFiles(l.ConfigDir(), p.files)
	if err != nil {
		return State{}, err
	}
	if err := files.Write(l.ConfigDir(), p.files); err != nil {
		return State{}, err
	}
	fail := func(err error) (State, error) {
		if uerr := undo(); uerr != nil {
			return State{}, errors.Join(err, fmt.Errorf("restoring %s: %w", l.ConfigDir(), uerr))
		}
		return State{}, err
	}
	if err := testhook.Pause(ctx, StepUpConfigWritten); err != nil {
		return fail(err)
	}
	for _, n := range p.notes {
		fmt.Fprintln(o.Out, n)
	}

	st := State{Backend: Local, Components: s.ComponentNames(), Hashes: p.next, Processes: procs}
	var urls []string
	for _, c := range s.Components() {
		if pr, ok := procs[c.Name]; ok {
			st.recordURL(c.Name, "http://"+pr.Addr)
			urls = append(urls, c.Title+" http://"+pr.Addr)
		}
	}
	client := httpClient(s.StackUser, env.StackPassword())

	// Reload what runs and changed, or say how it picks the change up
	// itself. Should a reload still fail, the server keeps its running
	// configuration and the state file keeps the old hashes, so the next
	// `up` tries again.
	for _, c := range s.Components() {
		if !changed[c.Name] || restart[c.Name] {
			continue // a restarted component loads its new files anyway
		}
		if _, ok := running[c.Name]; !ok {
			continue
		}
		if c.ReloadPath == "" {
			fmt.Fprintln(o.Out, c.RereadNote)
			continue
		}
		if err := reload(ctx, client, "http://"+procs[c.Name].Addr+c.ReloadPath); err != nil {
			return fail(fmt.Errorf("%s kept its running configuration: %w", c.Name, err))
		}
		fmt.Fprintf(o.Out, "reloaded %s: its files changed\n", c.Name)
	}
	if err := testhook.Pause(ctx, StepUpReloaded); err != nil {
		return fail(err)
	}

	// Restart what runs with other flags, start what is missing, then
	// wait for all of it.
	var started, restarted []string
	exited := map[string]<-chan struct{}{}
	// undoRestarts starts the restarted components again as they ran
	// before, once the config directory is back as it was.
	undoRestarts := func(err error) (State, error) {
		stopAll(l, started, procs)
		err = errors.Join(err, l.putBackState(prev))
		_, err = fail(err)
		for _, c := range restarted {
			_, done, serr := l.start(c, prev.Processes[c])
			if serr == nil {
				serr = waitReady(context.WithoutCancel(ctx), l, Options{Timeout: o.Timeout, Out: io.Discard}, client, prev.Processes, []string{c},
					map[string]<-chan struct{}{c: done})
			}
			if serr != nil {
				err = errors.Join(err, fmt.Errorf("starting %s again as it ran before: %w", c, serr))
			}
		}
		return State{}, err
	}
	if err := l.savePending(prev, st); err != nil {
		return fail(err)
	}
	for _, c := range s.ComponentNames() {
		if !restart[c] {
			continue
		}
		if _, err := l.stop(ctx, c, prev.Processes[c], 30*time.Second); err != nil {
			return undoRestarts(fmt.Errorf("stopping %s to restart it: %w", c, err))
		}
		restarted = append(restarted, c)
		pid, done, err := l.start(c, procs[c])
		if err != nil {
			return undoRestarts(err)
		}
		started = append(started, c)
		exited[c] = done
		why := "with new flags " + strings.Join(commandChanges(prev.Processes[c], procs[c]), " ")
		if sameCommand(prev.Processes[c], procs[c]) {
			why = "to load its changed files"
		}
		fmt.Fprintf(o.Out, "restarted %s (pid %d, was %d) %s; its data is kept\n", c, pid, running[c], why)
	}
	if err := testhook.Pause(ctx, StepUpRestarted); err != nil {
		return undoRestarts(err)
	}
	for _, c := range missing {
		pid, done, err := l.start(c, procs[c])
		if err != nil {
			return undoRestarts(err)
		}
		started = append(started, c)
		exited[c] = done
		fmt.Fprintf(o.Out, "started %s (pid %d) on %s, log %s\n", c, pid, procs[c].Addr, l.Log(c))
	}
	if err := testhook.Pause(ctx, StepUpStarted); err != nil {
		return undoRestarts(err)
	}
	if err := waitReady(ctx, l, o, client, procs, started, exited); err != nil {
		// A stack half up is worse than none: stop what this run started
		// and start what it restarted as it ran before.
		return undoRestarts(err)
	}
	if err := testhook.Pause(ctx, StepUpReady); err != nil {
		return undoRestarts(err)
	}
	if err := l.SaveState(st); err != nil {
		return undoRestarts(err)
	}
	if len(missing) > 0 {
		fmt.Fprintf(o.Out, "stack is up: %s (user %s; password in %s)\n",
			strings.Join(urls, ", "), s.StackUser, filepath.Join(o.Dir, secrets.FileName))
	}
	return st, nil
}

// sameCommand reports whether a component started as p would run as the
// recorded one runs: the same arguments and environment. The binary's
// path is not compared: the running check already matches its name.
func sameCommand(recorded, p Process) bool {
	return slices.Equal(recorded.Args, p.Args) && slices.Equal(recorded.Env, p.Env)
}

// commandChanges lists the arguments and environment settings p has that
// the recorded command lacks, to say what a restart changes. They name
// files, never a secret.
func commandChanges(recorded, p Process) []string {
	var out []string
	for _, a := range p.Args {
		if !slices.Contains(recorded.Args, a) {
			out = append(out, a)
		}
	}
	for _, e := range p.Env {
		if !slices.Contains(recorded.Env, e) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		out = append(out, "(arguments removed or reordered)")
	}
	return out
}

func stopAll(l Layout, comps []string, procs map[string]Process) {
	for _, c := range comps {
		l.stop(context.Background(), c, procs[c], 10*time.Second)
	}
}

// waitReady polls each started component's ready URL until it answers,
// the process dies (its log's tail says why) or the timeout passes.
func waitReady(ctx context.Context, l Layout, o Options, authClient *http.Client, procs map[string]Process, comps []string, exited map[string]<-chan struct{}) error {
	if len(comps) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var bar *progressbar.ProgressBar
	if o.Terminal {
		bar = progressbar.NewOptions(len(comps),
			progressbar.OptionSetWriter(o.Out),
			progressbar.OptionSetDescription("waiting for "+strings.Join(comps, ", ")),
			progressbar.OptionShowCount(),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionClearOnFinish(),
		)
	} else {
		fmt.Fprintf(o.Out, "waiting up to %s for %s to be ready\n", o.Timeout, strings.Join(comps, ", "))
	}
	anon := httpClient("", "")
	begin := time.Now()
	pending := slices.Clone(comps)
	for len(pending) > 0 {
		var still []string
		for _, c := range pending {
			p := procs[c]
			cl := anon
			if p.Auth {
				cl = authClient
			}
			if err := Ready(ctx, cl, p.Ready); err == nil {
				if bar != nil {
					bar.Add(1)
				} else {
					fmt.Fprintf(o.Out, "%s ready after %s\n", c, time.Since(begin).Round(100*time.Millisecond))
				}
				continue
			}
			select {
			case <-exited[c]:
				return fmt.Errorf("%s exited while starting; the end of %s:\n%s", c, l.Log(c), l.tailLog(c, 10))
			default:
			}
			still = append(still, c)
		}
		pending = still
		if len(pending) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			if bar != nil {
				bar.Exit()
				fmt.Fprintln(o.Out)
			}
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%w after %s: %s not ready; see %s", ErrTimeout, o.Timeout, strings.Join(pending, ", "), l.Log(pending[0]))
			}
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	if bar != nil {
		bar.Finish()
		fmt.Fprintf(o.Out, "%s ready after %s\n", strings.Join(comps, ", "), time.Since(begin).Round(100*time.Millisecond))
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// DownOptions say how to stop the stack.
type DownOptions struct {
	// Backend overrides what the state file records.
	Backend string
	Dir     string
	Layout  Layout
	// Volumes also deletes the stack's data: samples, silences,
	// notification log, Grafana's database.
	Volumes bool
	// Wait is how long a local component gets to exit after SIGTERM
	// before SIGKILL.
	Wait time.Duration
	Out  io.Writer
}

// Down stops the stack. Without Volumes every piece of data stays, so a
// later Up continues where the stack left off.
func Down(ctx context.Context, o DownOptions) error {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Wait <= 0 {
		o.Wait = 30 * time.Second
	}
	if o.Layout.Root == "" {
		o.Layout.Root = DefaultStateDir
	}
	l := o.Layout
	st, err := l.LoadState()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	backend := o.Backend
	if backend == "" {
		backend = st.Backend
	}
	if backend == "" {
		fmt.Fprintf(o.Out, "no stack recorded in %s: nothing to stop (pass --backend compose for a compose stack started by hand)\n", l.StateFile())
		return nil
	}
	b, err := NewBackend(backend, nil, o.Dir, l, 0)
	if err != nil {
		return fmt.Errorf("%w in %s", err, l.StateFile())
	}
	return b.Down(ctx, o, st)
}

// downLocal stops the local processes, in reverse start order.
func downLocal(ctx context.Context, o DownOptions, st State) error {
	l := o.Layout
	stopped := 0
	for _, c := range slices.Backward(st.order()) {
		if note := l.stalePIDNote(c, st.Processes[c]); note != "" {
			fmt.Fprintln(o.Out, note)
		}
		was, err := l.stop(ctx, c, st.Processes[c], o.Wait)
		if err != nil {
			return err
		}
		if was {
			stopped++
			fmt.Fprintf(o.Out, "stopped %s\n", c)
		}
	}
	if stopped == 0 {
		fmt.Fprintln(o.Out, "no local component was running")
	}
	if o.Volumes {
		for _, c := range st.order() {
			if err := os.RemoveAll(l.Data(c)); err != nil {
				return err
			}
		}
		fmt.Fprintf(o.Out, "removed the stack's data under %s\n", filepath.Join(l.Root, "data"))
	} else {
		fmt.Fprintf(o.Out, "data kept under %s (remove it with down --volumes)\n", filepath.Join(l.Root, "data"))
	}
	return nil
}

// StopComponent stops one component and keeps its data, e.g. for a
// restore to swap Prometheus' data directory: the local process
// (SIGTERM, wait), or the compose service (docker compose stop). It
// reports whether the component was running.
func StopComponent(ctx context.Context, l Layout, component string) (bool, error) {
	st, err := l.LoadState()
	if err != nil {
		return false, err
	}
	b, err := NewBackend(st.Backend, nil, "", l, 0)
	if err != nil {
		return false, err
	}
	return b.Stop(ctx, component)
}

func stopLocal(ctx context.Context, l Layout, component string) (bool, error) {
	st, err := l.LoadState()
	if err != nil {
		return false, err
	}
	p, ok := st.Processes[component]
	if !ok {
		return false, fmt.Errorf("%w %q in %s", ErrUnknownComponent, component, l.StateFile())
	}
	return l.stop(ctx, component, p, 30*time.Second)
}

// StartComponent starts one component again, as Up last ran it (the
// recorded local command, or docker compose up --wait for the service),
// and waits until it is ready. A running component is left as it is.
func StartComponent(ctx context.Context, l Layout, component string, timeout time.Duration) error {
	st, err := l.LoadState()
	if err != nil {
		return err
	}
	b, err := NewBackend(st.Backend, nil, "", l, timeout)
	if err != nil {
		return err
	}
	return b.Start(ctx, component)
}

func startLocal(ctx context.Context, l Layout, component string, timeout time.Duration) error {
	st, err := l.LoadState()
	if err != nil {
		return err
	}
	p, ok := st.Processes[component]
	if !ok {
		return fmt.Errorf("%w %q in %s", ErrUnknownComponent, component, l.StateFile())
	}
	if _, ok := l.running(st, component); ok {
		return nil
	}
	if err := checkPort(p.Addr, "`investiq-mon down` and `investiq-mon up` (its port options)"); err != nil {
		return err
	}
	_, exited, err := l.start(component, p)
	if err != nil {
		return err
	}
	user, pw, err := l.credentials()
	if err != nil {
		return err
	}
	return waitReady(ctx, l, Options{Timeout: timeout, Out: io.Discard}, httpClient(user, pw), st.Processes, []string{component},
		map[string]<-chan struct{}{component: exited})
}

// credentials reads the stack user and password back from the files Up
// wrote for the servers: the web config names the user, the secret file
// holds the password.
func (l Layout) credentials() (string, string, error) {
	pw, err := os.ReadFile(filepath.Join(l.SecretsDir(), spec.SecretStackPassword))
	if err != nil {
		return "", "", err
	}
	web, err := os.ReadFile(l.WebConfig())
	if err != nil {
		return "", "", err
	}
	var cfg struct {
		Users map[string]string `yaml:"basic_auth_users"`
	}
	if err := yaml.Unmarshal(web, &cfg); err != nil {
		return "", "", fmt.Errorf("%s: %w", l.WebConfig(), err)
	}
	for user := range cfg.Users {
		return user, string(pw), nil
	}
	return "", "", fmt.Errorf("%s: no basic_auth_users", l.WebConfig())
}
