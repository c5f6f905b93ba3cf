// Package deps pins the project's dependencies while the packages that use
// them are being written. TODO(cleanup): delete once every import is real.
package deps

import (
	_ "github.com/charmbracelet/lipgloss"
	_ "github.com/compose-spec/compose-go/v2/loader"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/grafana/grafana-foundation-sdk/go/dashboard"
	_ "github.com/grafana/grafana-openapi-client-go/client"
	_ "github.com/pmezard/go-difflib/difflib"
	_ "github.com/prometheus/alertmanager/config"
	_ "github.com/prometheus/alertmanager/dispatch"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/common/model"
	_ "github.com/prometheus/exporter-toolkit/web"
	_ "github.com/prometheus/prometheus/config"
	_ "github.com/prometheus/prometheus/model/rulefmt"
	_ "github.com/prometheus/prometheus/promql"
	_ "github.com/prometheus/prometheus/promql/parser"
	_ "github.com/prometheus/prometheus/promql/promqltest"
	_ "github.com/prometheus/prometheus/rules"
	_ "github.com/prometheus/prometheus/storage"
	_ "github.com/prometheus/prometheus/tsdb"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/spf13/cobra"
	_ "golang.org/x/crypto/bcrypt"
	_ "gopkg.in/yaml.v3"
)
