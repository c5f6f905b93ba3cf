// Package templates holds the text templates of the generated files that
// are prose rather than configuration (RUNBOOK.md). They are embedded so
// the binary renders the same bytes wherever it runs; configuration files
// are marshalled from typed values instead, never templated.
package templates

import "embed"

// FS holds every *.tmpl file of this directory.
//
//go:embed *.tmpl
var FS embed.FS

// Runbook is the template of monitoring/RUNBOOK.md.
const Runbook = "runbook.md.tmpl"
