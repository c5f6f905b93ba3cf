package stack

// What `up --backend compose` checks on the engine before and after it
// runs `docker compose up`. Each check exists because a real engine showed
// the failure it prevents: a missing or old compose plugin answered with
// docker's own "unknown shorthand flag: 'f' in -f", a missing Grafana image
// made compose try the public registry, a busy port left half the stack
// started, and a secret changed in .env never reached a running container.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/spec"
)

// ErrCompose is a docker compose plugin that is missing or too old for the
// generated file.
var ErrCompose = errors.New("docker compose cannot run the generated file")

// MinComposeVersion is the oldest Compose v2 that runs the generated file:
// configs with inline `content:` arrived in 2.23.1 (secrets with an
// `environment:` source in 2.6.0, `ps --format json` as one object per line
// in 2.21.0).
const MinComposeVersion = "2.23.1"

// Pull policies of `docker compose up --pull`.
var PullPolicies = []string{"always", "missing", "never"}

// composeVersion checks that `docker compose` is a Compose v2 plugin at
// least MinComposeVersion, and returns its version.
func composeVersion(ctx context.Context, docker string) (string, error) {
	args := []string{"compose", "version", "--short"}
	cmd, dctx, cancel := dockerCommand(ctx, DockerQueryTimeout, docker, args...)
	defer cancel()
	out, err := cmd.CombinedOutput()
	if terr := DockerTimedOut(dctx, err, args); terr != err {
		return "", terr
	}
	if err != nil {
		return "", fmt.Errorf("%w: the docker compose plugin is missing (docker compose version: %s): install Compose %s or later as a docker CLI plugin (in $DOCKER_CONFIG/cli-plugins or /usr/libexec/docker/cli-plugins), or run the stack without Docker: investiq-mon up --backend local",
			ErrCompose, firstLine(out, err), MinComposeVersion)
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	if v == "" {
		return "", fmt.Errorf("%w: docker compose version --short printed no version: install Compose %s or later as a docker CLI plugin", ErrCompose, MinComposeVersion)
	}
	if !versionAtLeast(v, MinComposeVersion) {
		return v, fmt.Errorf("%w: docker compose %s is older than %s, which the generated file needs (inline configs.content for the web config): upgrade the compose plugin", ErrCompose, v, MinComposeVersion)
	}
	return v, nil
}

// versionAtLeast compares dotted versions (2.23.1, 5.6.0-rc.1) by their
// numeric major, minor and patch; anything unparsable is too old.
func versionAtLeast(v, min string) bool {
	parse := func(s string) ([3]int, bool) {
		var n [3]int
		s, _, _ = strings.Cut(s, "-")
		s, _, _ = strings.Cut(s, "+")
		parts := strings.Split(s, ".")
		if len(parts) < 2 || len(parts) > 3 {
			return n, false
		}
		for i, p := range parts {
			x, err := strconv.Atoi(p)
			if err != nil || x < 0 {
				return n, false
			}
			n[i] = x
		}
		return n, true
	}
	a, ok := parse(v)
	b, _ := parse(min)
	if !ok {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return true
}

// loadComposeProject loads the generated file as docker compose does: the
// environment of this process first, then .env beside the file.
func loadComposeProject(ctx context.Context, file string) (*types.Project, error) {
	dir := filepath.Dir(file)
	po, err := cli.NewProjectOptions([]string{file}, cli.WithWorkingDirectory(dir), cli.WithOsEnv,
		cli.WithEnvFiles(filepath.Join(dir, ".env")), cli.WithDotEnv, cli.WithProfiles([]string{render.ComposeProfile}))
	if err != nil {
		return nil, err
	}
	return po.LoadProject(ctx)
}

// servicesToStart are the services `up` asks compose for. With --pull
// never, an Optional component (Grafana) is left out when its image is
// not on the engine (as the local backend runs without its binary); the
// others are required. skipped says why any is not started, one
// sentence each.
func servicesToStart(ctx context.Context, docker string, s *spec.Spec, pull string) (services []string, skipped string, err error) {
	services = s.ComponentNames()
	if pull != "never" {
		return services, "", nil
	}
	var out []string
	for _, c := range s.Components() {
		args := []string{"image", "inspect", "--format", "{{.Id}}", c.Image}
		cmd, dctx, cancel := dockerCommand(ctx, DockerQueryTimeout, docker, args...)
		err := cmd.Run()
		cancel()
		if err == nil {
			out = append(out, c.Name)
			continue
		}
		if terr := DockerTimedOut(dctx, err, args); terr != err {
			return nil, "", terr
		}
		if c.Optional {
			if skipped != "" {
				skipped += "; "
			}
			skipped += fmt.Sprintf("%s skipped: its image %s is not on this engine and --pull never forbids pulling it (the stack runs without it)", c.Title, c.Image)
			continue
		}
		return nil, "", fmt.Errorf("%s: image %s is not on this engine and --pull never forbids pulling it: build or load it first, or run up with --pull missing", c.Name, c.Image)
	}
	return out, skipped, nil
}

// busyPorts names the services whose host port something else holds.
// It runs after a failed compose up has been rolled back, so the stack's
// own containers hold none of them: compose's error for a taken port is a
// long daemon message that does not say who holds it.
func busyPorts(s *spec.Spec, services []string) error {
	var errs []error
	for _, svc := range services {
		c, _ := s.Component(svc)
		addr := net.JoinHostPort(s.PublishAddress, strconv.Itoa(c.HostPort))
		where := "its HostPort in spec/investiq.go" // a component the spec adds
		if c.Name == spec.Prometheus || c.Name == spec.Alertmanager || c.Name == spec.Grafana {
			where = "ports." + c.Name + " in the stack's investiq-mon.yaml"
		}
		if err := checkPort(addr, where); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", svc, err))
		}
	}
	return errors.Join(errs...)
}

// portTaken tells compose's answer for a published port that cannot be
// bound (the daemon's userland proxy, or its port allocator).
func portTaken(out []byte) bool {
	return bytes.Contains(out, []byte("address already in use")) || bytes.Contains(out, []byte("port is already allocated"))
}

// projectVolumes lists the compose project's volumes, so a failed first
// up can remove the ones it created.
func projectVolumes(ctx context.Context, docker, project string) (map[string]bool, error) {
	args := []string{"volume", "ls", "-q", "--filter", "label=com.docker.compose.project=" + project}
	cmd, dctx, cancel := dockerCommand(ctx, DockerQueryTimeout, docker, args...)
	defer cancel()
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("docker volume ls: %w", DockerTimedOut(dctx, err, args))
	}
	vols := map[string]bool{}
	for _, v := range strings.Fields(string(out)) {
		vols[v] = true
	}
	return vols, nil
}

// staleSecrets lists the running services whose secret and config files
// differ from what the compose file and .env give now. Compose copies them
// into a container when it creates it and leaves them out of the config
// hash that decides on a recreate, so a password or webhook URL changed in
// .env never reaches a running container by itself. Only sha256 sums
// leave the containers (sha256sum run as the container's user: compose
// writes the files with mode 0444).
func staleSecrets(ctx context.Context, docker string, p *types.Project, services []string) (stale []string, notes []string) {
	for _, name := range services {
		svc, ok := p.Services[name]
		if !ok || svc.ContainerName == "" {
			continue
		}
		want := map[string]string{} // target path -> sha256 of the content, "" when compose writes no file
		for _, ref := range svc.Secrets {
			target := ref.Target
			if target == "" {
				target = ref.Source
			}
			if !path.IsAbs(target) {
				target = "/run/secrets/" + target
			}
			want[target] = contentSum(p, types.FileObjectConfig(p.Secrets[ref.Source]))
		}
		for _, ref := range svc.Configs {
			target := ref.Target
			if target == "" {
				target = "/" + ref.Source
			}
			cfg := types.FileObjectConfig(p.Configs[ref.Source])
			if cfg.File != "" {
				continue // bind-mounted by compose: always current
			}
			want[target] = contentSum(p, cfg)
		}
		if len(want) == 0 {
			continue
		}
		args := []string{"exec", svc.ContainerName, "sha256sum"}
		for t := range want {
			args = append(args, t)
		}
		// Missing files make sha256sum exit 1; stdout still lists the others.
		cmd, dctx, cancel := dockerCommand(ctx, DockerQueryTimeout, docker, args...)
		out, err := cmd.Output()
		cancel()
		err = DockerTimedOut(dctx, err, args)
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
			notes = append(notes, fmt.Sprintf("could not compare %s's secret files with .env (%v): if you changed one, run docker compose up --force-recreate %s", name, err, name))
			continue
		}
		got := map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			if sum, file, ok := strings.Cut(sc.Text(), "  "); ok {
				got[file] = sum
			}
		}
		for t, sum := range want {
			if got[t] != sum {
				stale = append(stale, name)
				break
			}
		}
	}
	return stale, notes
}

// contentSum is the sha256 of what compose writes for a secret or config
// with an environment or inline source, "" when it writes nothing (an
// empty value).
func contentSum(p *types.Project, c types.FileObjectConfig) string {
	content := c.Content
	if c.Environment != "" {
		content = p.Environment[c.Environment]
	}
	if content == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}
