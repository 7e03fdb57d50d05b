// Package tools pins the lint and vulnerability tools of mtastorm in a
// module of their own, so that their dependencies never enter the main
// module's go.mod. Run them from the repository root with
// `go tool -modfile=tools/go.mod NAME` (see ci/lint.sh).
package tools
